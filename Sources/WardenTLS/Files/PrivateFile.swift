import WardenCore

/// The module's file operations: WardenCore's ``SecureFile`` (files created by `open(2)` with their final
/// mode, written, synced and renamed; reads checked on the descriptor they read from), with its errors
/// turned into ``TLSSetupError`` naming the file ("private key file", "certificate file").
enum PrivateFile {
    /// Files larger than this are refused; a PEM certificate chain or key is a few kilobytes.
    static let maximumSize = 1 << 20

    /// Whether anything (a file, a directory, a dangling symbolic link) exists at `path`.
    static func exists(_ path: String) -> Bool {
        SecureFile.entryExists(path)
    }

    /// Reads a regular file of at most ``maximumSize`` bytes; with `ownerOnly`, refuses it when group or
    /// other users have any access to it.
    static func read(_ path: String, what: String, ownerOnly: Bool) throws(TLSSetupError) -> [UInt8] {
        try mapped(what) { () throws(FileError) in
            try SecureFile.readRegularFile(path, what: what, maximumSize: maximumSize, ownerOnly: ownerOnly)
        }
    }

    /// Refuses the file at `path` when group or other users have any access to it, or when it is not a
    /// regular file.
    static func requireOwnerOnly(_ path: String, what: String) throws(TLSSetupError) {
        _ = try read(path, what: what, ownerOnly: true)
    }

    /// Creates a new file holding `bytes` with exactly `mode`, failing with ``TLSSetupError/Code/fileExists``
    /// when anything is already at `path` (`O_EXCL`, which also refuses a symbolic link).
    static func createExclusively(_ path: String, bytes: [UInt8], mode: UInt32, what: String) throws(TLSSetupError) {
        let created = try mapped(what) { () throws(FileError) in try SecureFile.createExclusively(path, bytes: bytes, mode: mode) }
        guard created else { throw existsError(what, path) }
    }

    /// Replaces whatever is at `path` with a file holding `bytes` with exactly `mode` (a temporary file
    /// beside it, synced and renamed over it).
    static func replace(_ path: String, bytes: [UInt8], mode: UInt32, what: String) throws(TLSSetupError) {
        try mapped(what) { () throws(FileError) in try SecureFile.replaceAtomically(path, bytes: bytes, mode: mode) }
    }

    /// Removes the file at `path`, ignoring failure; used only to undo a file this module just created.
    static func remove(_ path: String) {
        SecureFile.remove(path)
    }

    /// Creates the directory that will hold `path`, and any missing parents, with mode `0700`. Existing
    /// directories are kept as they are.
    static func createParentDirectory(of path: String) throws(TLSSetupError) {
        try createPrivateDirectory(SecureFile.parentDirectory(of: path))
    }

    /// Creates `path` and any missing parents as directories with mode `0700`.
    static func createPrivateDirectory(_ path: String) throws(TLSSetupError) {
        try mapped("directory") { () throws(FileError) in try SecureFile.createPrivateDirectory(path) }
    }

    static func existsError(_ what: String, _ path: String) -> TLSSetupError {
        TLSSetupError(.fileExists, "the \(what) \(path) already exists; it is not overwritten unless that is asked for")
    }

    private static func mapped<T>(_ what: String, _ body: () throws(FileError) -> T) throws(TLSSetupError) -> T {
        do {
            return try body()
        } catch {
            let code: TLSSetupError.Code = error.code == .insecurePermissions ? .insecurePermissions : .fileSystem
            // Read errors already name the file; the others get its role in front.
            let message =
                error.message.hasPrefix("the \(what)") || error.message.contains(" the \(what) ")
                ? error.message : "\(what): \(error.message)"
            throw TLSSetupError(code, message)
        }
    }
}
