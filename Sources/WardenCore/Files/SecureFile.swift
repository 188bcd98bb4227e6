#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small, careful file operations for secrets and state: owner-only modes, atomic replacement, and
/// durable writes.
///
/// Foundation's file APIs create files with the process umask and do not fsync; key material and the
/// keyring need both controlled: a key file must never exist, even briefly, with a broader mode, and a
/// replaced keyring must be on disk before the call returns.
public enum SecureFile {
    /// Reads a whole file, or returns `nil` when it does not exist.
    public static func read(_ path: String) throws(FileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw systemError("open", path)
        }
        defer { close(fd) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc_read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError("read", path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Reads a regular file of at most `maximumSize` bytes, checking its type, size and (with
    /// `ownerOnly`) its mode on the descriptor the bytes are then read from, so the file cannot be swapped
    /// between the check and the read. A FIFO put in place of the file is refused, not waited on.
    ///
    /// - Parameter what: How the file is named in error messages ("private key file").
    /// - Throws: ``FileError/Code/notRegularFile``, ``FileError/Code/tooLarge``,
    ///   ``FileError/Code/insecurePermissions`` (naming the mode and the fix) or ``FileError/Code/system``.
    public static func readRegularFile(_ path: String, what: String, maximumSize: Int, ownerOnly: Bool) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw systemError("open the \(what)", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw systemError("inspect the \(what)", path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FileError(code: .notRegularFile, path: path, message: "the \(what) \(path) is not a regular file")
        }
        let mode = UInt32(info.st_mode) & 0o7777
        if ownerOnly, mode & 0o077 != 0 {
            throw FileError(
                code: .insecurePermissions, path: path,
                message: "the \(what) \(path) has mode \(octal(mode)); it must be accessible by its owner only (chmod 600 \(path))")
        }
        let tooLarge = FileError(code: .tooLarge, path: path, message: "the \(what) \(path) is larger than \(maximumSize) bytes")
        guard Int(info.st_size) <= maximumSize else { throw tooLarge }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc_read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError("read the \(what)", path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumSize else { throw tooLarge }
        }
        return bytes
    }

    /// Whether a file or directory exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Whether anything exists at `path`, a dangling symbolic link included.
    public static func entryExists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The permission bits (`0o7777` mask) of the file at `path`.
    public static func permissions(_ path: String) throws(FileError) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw systemError("stat", path) }
        return UInt32(info.st_mode) & 0o7777
    }

    /// Refuses a file that group or other users can access in any way.
    ///
    /// - Throws: ``FileError/Code/insecurePermissions`` naming the mode and the fix.
    public static func requireOwnerOnly(_ path: String, what: String) throws(FileError) {
        let mode = try permissions(path)
        guard mode & 0o077 == 0 else {
            throw FileError(
                code: .insecurePermissions, path: path,
                message: "\(what) \(path) has mode \(octal(mode)); it must be accessible by its owner only (chmod 600 \(path))")
        }
    }

    /// Creates `path` (and missing parents) as directories with mode `0700`; an existing directory is kept.
    public static func createPrivateDirectory(_ path: String) throws(FileError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw FileError(code: .system, path: path, errno: ENOTDIR, message: "\(path) exists and is not a directory")
            }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path, !parent.isEmpty, !exists(parent) { try createPrivateDirectory(parent) }
        if mkdir(path, 0o700) != 0, errno != EEXIST { throw systemError("create directory", path) }
    }

    /// Creates a new file holding `bytes` with mode `mode`; returns `false` if the file already exists.
    ///
    /// The file is created with `O_EXCL` and its final mode at once, written and fsynced; on a failed write
    /// it is removed again, so a partly written key file is never left behind.
    @discardableResult
    public static func createExclusively(_ path: String, bytes: some Collection<UInt8>, mode: UInt32 = 0o600) throws(FileError) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode_t(mode))
        if fd < 0 {
            if errno == EEXIST { return false }
            throw systemError("create", path)
        }
        do throws(FileError) {
            try finishWrite(fd: fd, path: path, bytes: Array(bytes), mode: mode)
        } catch {
            unlink(path)
            throw error
        }
        try syncDirectory(of: path)
        return true
    }

    /// Replaces `path` atomically with `bytes` (write to a temporary file, fsync, rename, fsync the directory).
    public static func replaceAtomically(_ path: String, bytes: some Collection<UInt8>, mode: UInt32 = 0o600) throws(FileError) {
        var random = SystemRandomNumberGenerator()
        let temporary = "\(path).tmp-\(getpid())-\(String(random.next() as UInt64, radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode_t(mode))
        guard fd >= 0 else { throw systemError("create", temporary) }
        do throws(FileError) {
            try finishWrite(fd: fd, path: temporary, bytes: Array(bytes), mode: mode)
            guard rename(temporary, path) == 0 else { throw systemError("rename into", path) }
        } catch {
            unlink(temporary)
            throw error
        }
        try syncDirectory(of: path)
    }

    /// Removes the file at `path`, ignoring failure; for undoing a file the caller just created.
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// The directory part of `path` (`.` when there is none).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func systemError(_ operation: String, _ path: String) -> FileError {
        let code = errno
        let reason = String(cString: strerror(code))
        return FileError(code: .system, path: path, errno: code, message: "could not \(operation) \(path): \(reason)")
    }

    private static func finishWrite(fd: Int32, path: String, bytes: [UInt8], mode: UInt32) throws(FileError) {
        defer { close(fd) }
        // The umask may have narrowed the mode given to open; set it exactly.
        guard fchmod(fd, mode_t(mode)) == 0 else { throw systemError("chmod", path) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc_write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError("write", path)
            }
            written += count
        }
        guard fsync(fd) == 0 else { throw systemError("fsync", path) }
    }

    private static func syncDirectory(of path: String) throws(FileError) {
        let directory = parentDirectory(of: path)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw systemError("fsync directory", directory) }
    }
}

// `read` and `write` are shadowed by the static methods' names inside `SecureFile`.
@inline(__always) private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

@inline(__always) private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
