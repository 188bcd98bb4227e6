/// A file-system operation failed.
///
/// The message names the operation and the path and carries the system's reason; it never holds file
/// contents, so it is safe to log and show.
public struct FileError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, in a form callers can switch on. New codes may be added.
    public typealias Code = ErrorCode<FileError>

    public let code: Code
    /// The file the operation was about.
    public let path: String
    /// The `errno` value, when the system reported one.
    public let errno: Int32?
    /// A message safe to log: operation, path and reason.
    public let message: String

    public init(code: Code, path: String, errno: Int32? = nil, message: String) {
        self.code = code
        self.path = path
        self.errno = errno
        self.message = message
    }

    public var description: String { message }
}

extension ErrorCode where Domain == FileError {
    /// The operating system refused or failed the operation (`errno` says why).
    public static var system: Self { Self("file.system") }
    /// An exclusive lock could not be taken before the timeout.
    public static var lockTimeout: Self { Self("file.lock_timeout") }
    /// The file's permissions allow access by other users.
    public static var insecurePermissions: Self { Self("file.insecure_permissions") }
    /// Something other than a regular file (a directory, a FIFO, a device) is where a file was expected.
    public static var notRegularFile: Self { Self("file.not_regular") }
    /// The file is larger than the caller allows.
    public static var tooLarge: Self { Self("file.too_large") }
}
