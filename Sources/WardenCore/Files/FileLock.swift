#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on a lock file, shared by every process on the machine.
///
/// Used to serialise read-modify-write cycles on files that several Warden processes change (the CLI
/// rotating keys while a server seals with them). Waiting polls with a short sleep instead of blocking a
/// thread of the cooperative pool.
public enum FileLock {
    /// Runs `body` while holding the lock on `path`, creating the lock file (mode 0600) if needed.
    ///
    /// - Parameters:
    ///   - path: The lock file.
    ///   - timeout: How long to wait for another holder before giving up.
    /// - Throws: ``FileError`` with ``FileError/Code/lockTimeout`` when the lock stays taken, or the error
    ///   `body` throws.
    public static func withExclusiveLock<T>(
        _ path: String,
        timeout: Duration = .seconds(10),
        _ body: () async throws -> T
    ) async throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SecureFile.systemError("open lock file", path) }
        defer { close(fd) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw SecureFile.systemError("lock", path) }
            guard clock.now < deadline else {
                throw FileError(code: .lockTimeout, path: path, message: "\(path) is locked by another process (waited \(timeout))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}
