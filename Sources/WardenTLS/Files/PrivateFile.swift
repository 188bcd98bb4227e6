#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations the module needs, done by hand so that modes are exact from the first
/// instant and reads see the same file that was checked.
///
/// Foundation creates files with the process umask and then changes the mode, which leaves a moment in
/// which a new key file is readable by others; here every file is created by `open(2)` with its final
/// mode (and `fchmod` only ever narrows the umask's result back to that mode). Reads go through one
/// descriptor: the mode is checked with `fstat` on the descriptor the bytes are then read from, so the
/// file cannot be swapped between the check and the read.
enum PrivateFile {
    /// Files larger than this are refused; a PEM certificate chain or key is a few kilobytes.
    static let maximumSize = 1 << 20

    /// Whether anything (a file, a directory, a dangling symbolic link) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Reads a regular file of at most ``maximumSize`` bytes.
    ///
    /// - Parameters:
    ///   - path: The file to read.
    ///   - what: How the file is named in error messages ("certificate file", "private key file").
    ///   - ownerOnly: Refuse the file when group or other users have any access to it.
    static func read(_ path: String, what: String, ownerOnly: Bool) throws(TLSSetupError) -> [UInt8] {
        let fd = try openChecked(path, what: what, ownerOnly: ownerOnly)
        defer { close(fd) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError("read the \(what)", path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumSize else {
                throw TLSSetupError(.fileSystem, "the \(what) \(path) is larger than \(maximumSize) bytes")
            }
        }
        return bytes
    }

    /// Refuses the file at `path` when group or other users have any access to it, or when it is not a
    /// regular file.
    static func requireOwnerOnly(_ path: String, what: String) throws(TLSSetupError) {
        close(try openChecked(path, what: what, ownerOnly: true))
    }

    /// Opens a regular file for reading and checks, on the open descriptor, its type, size and mode.
    private static func openChecked(_ path: String, what: String, ownerOnly: Bool) throws(TLSSetupError) -> Int32 {
        // O_NONBLOCK: opening a FIFO put in place of the file must not hang; it is refused just below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw systemError("open the \(what)", path) }
        do throws(TLSSetupError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw systemError("inspect the \(what)", path) }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw TLSSetupError(.fileSystem, "the \(what) \(path) is not a regular file")
            }
            let mode = UInt32(info.st_mode) & 0o7777
            if ownerOnly, mode & 0o077 != 0 {
                throw TLSSetupError(
                    .insecurePermissions,
                    "the \(what) \(path) has mode \(octal(mode)); it must be accessible by its owner only "
                        + "(chmod 600 \(path))")
            }
            guard Int(info.st_size) <= maximumSize else {
                throw TLSSetupError(.fileSystem, "the \(what) \(path) is larger than \(maximumSize) bytes")
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Creates a new file holding `bytes` with exactly `mode`, failing with ``TLSSetupError/Code/fileExists``
    /// when anything is already at `path` (`O_EXCL`, which also refuses a symbolic link).
    static func createExclusively(_ path: String, bytes: [UInt8], mode: UInt32, what: String) throws(TLSSetupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode_t(mode))
        guard fd >= 0 else {
            if errno == EEXIST { throw existsError(what, path) }
            throw systemError("create the \(what)", path)
        }
        do throws(TLSSetupError) {
            try finishWrite(fd: fd, path: path, bytes: bytes, mode: mode, what: what)
        } catch {
            unlink(path)
            throw error
        }
        try syncDirectory(of: path)
    }

    /// Replaces whatever is at `path` with a file holding `bytes` with exactly `mode`: a temporary file
    /// beside it is created with that mode, written, synced and renamed over `path`.
    static func replace(_ path: String, bytes: [UInt8], mode: UInt32, what: String) throws(TLSSetupError) {
        var random = SystemRandomNumberGenerator()
        let temporary = "\(path).tmp-\(getpid())-\(String(random.next() as UInt64, radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode_t(mode))
        guard fd >= 0 else { throw systemError("create a temporary file for the \(what)", temporary) }
        do throws(TLSSetupError) {
            try finishWrite(fd: fd, path: temporary, bytes: bytes, mode: mode, what: what)
            guard rename(temporary, path) == 0 else { throw systemError("replace the \(what)", path) }
        } catch {
            unlink(temporary)
            throw error
        }
        try syncDirectory(of: path)
    }

    /// Removes the file at `path`, ignoring failure; used only to undo a file this module just created.
    static func remove(_ path: String) {
        unlink(path)
    }

    /// Creates the directory that will hold `path`, and any missing parents, with mode `0700`. Existing
    /// directories are kept as they are.
    static func createParentDirectory(of path: String) throws(TLSSetupError) {
        try createPrivateDirectory(parentDirectory(of: path))
    }

    /// Creates `path` and any missing parents as directories with mode `0700`.
    static func createPrivateDirectory(_ path: String) throws(TLSSetupError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw TLSSetupError(.fileSystem, "\(path) exists and is not a directory")
            }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path { try createPrivateDirectory(parent) }
        if mkdir(path, 0o700) != 0, errno != EEXIST { throw systemError("create the directory", path) }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func existsError(_ what: String, _ path: String) -> TLSSetupError {
        TLSSetupError(.fileExists, "the \(what) \(path) already exists; it is not overwritten unless that is asked for")
    }

    static func systemError(_ operation: String, _ path: String) -> TLSSetupError {
        let code = errno
        return TLSSetupError(.fileSystem, "could not \(operation) \(path): \(String(cString: strerror(code)))")
    }

    private static func finishWrite(
        fd: Int32, path: String, bytes: [UInt8], mode: UInt32, what: String
    ) throws(TLSSetupError) {
        defer { close(fd) }
        // The umask can only have removed bits from `mode`; put back exactly the mode asked for.
        guard fchmod(fd, mode_t(mode)) == 0 else { throw systemError("set the mode of the \(what)", path) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError("write the \(what)", path)
            }
            written += count
        }
        guard fsync(fd) == 0 else { throw systemError("sync the \(what)", path) }
    }

    private static func syncDirectory(of path: String) throws(TLSSetupError) {
        let directory = parentDirectory(of: path)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open the directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw systemError("sync the directory", directory) }
    }
}

// `read` and `write` would otherwise resolve to the static methods of `PrivateFile`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
