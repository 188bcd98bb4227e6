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
///   ciphertext ‖ tag) of JSON lines `{"k": key, "t": "blob"|"text", "v": base64}`, with the file's name
///   as associated data (a chunk cannot be swapped for another);
/// - `backup/file-<name>.wbk` — a source file (the original's `rbac.db`), sealed the same way.
public struct MigrationBackup: Sendable {
    public static let formatName = "warden-migrate-backup/1"
    static let valuesPerChunk = 10_000

    /// One backed-up value.
    public struct Entry: Sendable, Hashable, Codable {
        public let key: RowKey
        public let cell: Cell

        enum CodingKeys: String, CodingKey { case k, t, v }

        public init(key: RowKey, cell: Cell) {
            self.key = key
            self.cell = cell
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            key = try container.decode(RowKey.self, forKey: .k)
            let value = try container.decode(String.self, forKey: .v)
            guard let bytes = Base64.decode(value) else { throw MigrationError("a backup entry is not base64") }
            switch try container.decode(String.self, forKey: .t) {
            case "blob": cell = .blob(Data(bytes))
            case "text": cell = .text(String(decoding: bytes, as: UTF8.self))
            default: throw MigrationError("a backup entry has an unknown type")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .k)
            switch cell {
            case .blob(let data):
                try container.encode("blob", forKey: .t)
                try container.encode(Base64.encode(data), forKey: .v)
            case .text(let text):
                try container.encode("text", forKey: .t)
                try container.encode(Base64.encode(Array(text.utf8)), forKey: .v)
            case .null, .other:
                throw MigrationError("only text and blob values are backed up")
            }
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
        let encoder = JSONEncoder()
        var plaintext = Data()
        for entry in entries {
            plaintext.append(try encoder.encode(entry))
            plaintext.append(0x0A)
        }
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
        let plaintext = try open(chunk.file, sha256: chunk.sha256)
        let decoder = JSONDecoder()
        var entries: [Entry] = []
        for line in plaintext.split(separator: 0x0A) where !line.isEmpty {
            entries.append(try decoder.decode(Entry.self, from: Data(line)))
        }
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
