import CoreFoundation
import Crypto
public import Foundation
import WardenCore
public import WardenCrypto

#if canImport(Glibc)
import Glibc
#endif

/// The backup `warden migrate run` writes before its first change: every value it will rewrite (with its
/// row key) and the source files it imports, sealed under a key derived from the master key
/// (``MasterKey/backupKey``), each file checksummed in a manifest that is itself authenticated.
///
/// Layout of the backup directory (mode 0700; a directory others can read is refused):
///
/// - `backup/manifest.json` — the list of files, their SHA-256 and how many values each holds, with an
///   HMAC over the rest under the backup key;
/// - `backup/values-<column>-<n>.wbk` — up to 10,000 values of one column: AES-256-GCM (12-byte nonce ‖
///   ciphertext ‖ tag) of the entries framed one after another (``Entry``: key, storage class, bytes),
///   with the file's name as associated data (a chunk cannot be swapped for another);
/// - `backup/file-<name>.wbk` — a source file (the original's `rbac.db`), sealed the same way.
public struct MigrationBackup: Sendable {
    public static let formatName = "warden-migrate-backup/1"
    static let valuesPerChunk = 10_000

    /// One backed-up value.
    public struct Entry: Sendable, Hashable {
        public let key: RowKey
        public let cell: Cell

        public init(key: RowKey, cell: Cell) {
            self.key = key
            self.cell = cell
        }

        /// Appends the entry's framing: key tag (0 integer: 8 bytes big-endian; 1 text: 4-byte big-endian
        /// length and UTF-8), cell tag (0 BLOB, 1 text), 4-byte big-endian length and the bytes.
        func append(to data: inout Data) throws {
            func length(_ count: Int) throws {
                guard count <= Int(UInt32.max) else { throw MigrationError("a value is too large to back up") }
                withUnsafeBytes(of: UInt32(count).bigEndian) { data.append(contentsOf: $0) }
            }
            switch key {
            case .integer(let value):
                data.append(0)
                withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
            case .text(let text):
                data.append(1)
                try length(text.utf8.count)
                data.append(contentsOf: text.utf8)
            }
            switch cell {
            case .blob(let bytes):
                data.append(0)
                try length(bytes.count)
                data.append(bytes)
            case .text(let text):
                data.append(1)
                try length(text.utf8.count)
                data.append(contentsOf: text.utf8)
            case .null, .other:
                throw MigrationError("only text and blob values are backed up")
            }
        }

        /// Reads every entry of a chunk's plaintext.
        static func entries(in data: Data) throws -> [Entry] {
            var entries: [Entry] = []
            try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                var offset = 0
                func take(_ count: Int) throws -> UnsafeRawBufferPointer {
                    guard count >= 0, offset + count <= buffer.count else { throw MigrationError("a backup chunk is truncated") }
                    defer { offset += count }
                    return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
                }
                func number<T: FixedWidthInteger>(_: T.Type) throws -> T {
                    try take(MemoryLayout<T>.size).reduce(T(0)) { $0 << 8 | T($1) }
                }
                while offset < buffer.count {
                    let key: RowKey
                    switch try take(1)[0] {
                    case 0: key = .integer(try number(Int64.self))
                    case 1: key = .text(String(decoding: try take(Int(try number(UInt32.self))), as: UTF8.self))
                    default: throw MigrationError("a backup entry has an unknown key type")
                    }
                    let tag = try take(1)[0]
                    let bytes = try take(Int(try number(UInt32.self)))
                    switch tag {
                    case 0: entries.append(Entry(key: key, cell: .blob(Data(bytes))))
                    case 1: entries.append(Entry(key: key, cell: .text(String(decoding: bytes, as: UTF8.self))))
                    default: throw MigrationError("a backup entry has an unknown value type")
                    }
                }
            }
            return entries
        }
    }

    /// The manifest: what the backup holds.
    public struct Manifest: Sendable, Codable, Hashable {
        public struct Chunk: Sendable, Codable, Hashable {
            public var file: String
            public var sha256: String
            public var values: Int
        }
        public struct Column: Sendable, Codable, Hashable {
            public var location: String
            public var chunks: [Chunk]
            public var values: Int { chunks.reduce(0) { $0 + $1.values } }
        }
        public struct SourceFile: Sendable, Codable, Hashable {
            public var source: String
            public var file: String
            public var sha256: String
            public var size: Int
        }
        public var format = MigrationBackup.formatName
        public var created: Date
        public var columns: [Column]
        public var files: [SourceFile]
        public var mac: String?

        public var valueCount: Int { columns.reduce(0) { $0 + $1.values } }
    }

    let directory: String
    private let key: SymmetricKey

    public var manifestPath: String { directory + "/manifest.json" }

    /// - Parameter stateDirectory: The migration's directory; the backup lives in its `backup/`.
    public init(stateDirectory: String, masterKey: MasterKey) {
        directory = stateDirectory + "/backup"
        key = masterKey.backupKey
    }

    /// Creates `path` (mode 0700) if needed and refuses a directory that group or others can read.
    public static func checkPrivateDirectory(_ path: String) throws {
        do {
            try SecureFile.createPrivateDirectory(path)
        } catch {
            throw MigrationError("cannot create the backup directory \(path): \(error.message)")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw MigrationError("cannot read the backup directory \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw MigrationError("the backup directory \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 700 it or choose another")
        }
        guard info.st_uid == geteuid() else { throw MigrationError("the backup directory \(path) belongs to another user") }
    }

    /// Removes an unfinished backup (no verified manifest) so it can be written again.
    func reset() throws {
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for name in names { SecureFile.remove(directory + "/" + name) }
        }
        try Self.checkPrivateDirectory(directory)
    }

    // MARK: Writing

    /// Seals `entries` into chunk `index` of the column at position `columnIndex`; returns the chunk's record.
    func writeChunk(columnIndex: Int, index: Int, suffix: String = "", entries: [Entry]) throws -> Manifest.Chunk {
        let name = String(format: "values-%03d-%@%06d.wbk", columnIndex, suffix, index)
        var plaintext = Data()
        for entry in entries { try entry.append(to: &plaintext) }
        let sealed = try seal(plaintext, name: name)
        try write(sealed, name: name)
        return Manifest.Chunk(file: name, sha256: Hex.encode(SHA256.hash(data: sealed)), values: entries.count)
    }

    /// Seals a copy of the source file at `path`.
    func writeFile(source path: String, label: String) throws -> Manifest.SourceFile {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw MigrationError("cannot read \(path) to back it up") }
        guard bytes.count <= 1 << 30 else { throw MigrationError("\(path) is larger than 1 GiB; back it up by other means first") }
        let name = "file-\(label).wbk"
        let sealed = try seal(bytes, name: name)
        try write(sealed, name: name)
        return Manifest.SourceFile(source: path, file: name, sha256: Hex.encode(SHA256.hash(data: sealed)), size: bytes.count)
    }

    /// Writes the manifest (authenticated) atomically.
    func writeManifest(_ manifest: Manifest) throws {
        var signed = manifest
        signed.mac = nil
        signed.mac = Hex.encode(HMAC<SHA256>.authenticationCode(for: try Self.canonical(signed), using: key))
        let bytes = try Self.canonical(signed)
        do {
            try SecureFile.replaceAtomically(manifestPath, bytes: bytes, mode: 0o600)
        } catch {
            throw MigrationError("cannot write the backup manifest: \(error.message)")
        }
    }

    // MARK: Reading

    /// Reads and authenticates the manifest; `nil` when there is none.
    public func readManifest() throws -> Manifest? {
        guard let data = FileManager.default.contents(atPath: manifestPath) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard var manifest = try? decoder.decode(Manifest.self, from: data), manifest.format == Self.formatName, let mac = manifest.mac else {
            throw MigrationError("the backup manifest \(manifestPath) is not readable")
        }
        manifest.mac = nil
        guard let expected = Hex.decode(mac),
            HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: try Self.canonical(manifest), using: key)
        else {
            throw MigrationError("the backup manifest does not verify under this master key (another key, or it was changed)")
        }
        manifest.mac = mac
        return manifest
    }

    /// Reads, checks and opens one chunk.
    public func readChunk(_ chunk: Manifest.Chunk) throws -> [Entry] {
        let entries = try Entry.entries(in: try open(chunk.file, sha256: chunk.sha256))
        guard entries.count == chunk.values else { throw MigrationError("backup chunk \(chunk.file) holds \(entries.count) values, the manifest says \(chunk.values)") }
        return entries
    }

    /// Reads, checks and opens a backed-up source file.
    public func readFile(_ file: Manifest.SourceFile) throws -> Data {
        let bytes = try open(file.file, sha256: file.sha256)
        guard bytes.count == file.size else { throw MigrationError("backup file \(file.file) has the wrong size") }
        return bytes
    }

    /// Opens every chunk and file of `manifest`; returns the number of values. Throws at the first problem.
    public func verify(_ manifest: Manifest) throws -> Int {
        var count = 0
        for column in manifest.columns {
            for chunk in column.chunks { count += try readChunk(chunk).count }
        }
        for file in manifest.files { _ = try readFile(file) }
        guard count == manifest.valueCount else { throw MigrationError("the backup holds \(count) values, the manifest says \(manifest.valueCount)") }
        return count
    }

    // MARK: Helpers

    private func seal(_ plaintext: Data, name: String) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data((Self.formatName + "/" + name).utf8))
        guard let combined = box.combined else { throw MigrationError("cannot seal the backup") }
        return combined
    }

    private func open(_ name: String, sha256: String) throws -> Data {
        guard !name.contains("/"), let sealed = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw MigrationError("backup file \(name) is missing")
        }
        guard Hex.encode(SHA256.hash(data: sealed)) == sha256 else { throw MigrationError("backup file \(name) fails its checksum") }
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: Data((Self.formatName + "/" + name).utf8))
        else { throw MigrationError("backup file \(name) does not open under this master key") }
        return plaintext
    }

    private func write(_ bytes: Data, name: String) throws {
        do {
            try SecureFile.replaceAtomically(directory + "/" + name, bytes: bytes, mode: 0o600)
        } catch {
            throw MigrationError("cannot write the backup (\(name)): \(error.message); nothing was changed")
        }
    }

    static func canonical(_ manifest: Manifest) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(manifest)
    }
}
