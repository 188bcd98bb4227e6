import CoreFoundation
public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The migration's journal: one JSON line per step, appended and fsynced (`journal.log` in the backup
/// directory). A run that was killed reads it to resume: the backup is not written again once verified,
/// finished columns are skipped, and a column resumes after its last recorded batch. A line torn by a
/// crash is ignored (its step is simply done again; every step can be, because a value already rewritten
/// is a Warden envelope and is never rewritten twice).
public final class MigrationJournal: @unchecked Sendable {
    /// One line.
    public struct Record: Sendable, Codable, Hashable {
        public enum Kind: String, Sendable, Codable {
            case started
            case backupVerified = "backup-verified"
            case accountsDone = "accounts-done"
            case batch
            case columnDone = "column-done"
            case skipped, finished, restored
        }
        public var kind: Kind
        public var at: Date
        public var location: String?
        public var lastKey: RowKey?
        public var rows: Int?
        public var rewritten: Int?
        /// Rows the application changed between the read and the write (read again in the next pass).
        public var conflicts: Int?
        /// Which pass over the column a batch belongs to (1, 2, …).
        public var pass: Int?
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case kind, at, location
            case lastKey = "last_key"
            case rows, rewritten, conflicts, pass, note
        }

        public init(
            kind: Kind, at: Date = Date(), location: String? = nil, lastKey: RowKey? = nil, rows: Int? = nil, rewritten: Int? = nil,
            conflicts: Int? = nil, pass: Int? = nil, note: String? = nil
        ) {
            self.kind = kind
            self.at = at
            self.location = location
            self.lastKey = lastKey
            self.rows = rows
            self.rewritten = rewritten
            self.conflicts = conflicts
            self.pass = pass
            self.note = note
        }
    }

    public let path: String
    public private(set) var records: [Record]
    private let lock = NSLock()

    /// Opens (creating, mode 0600) the journal in `stateDirectory`.
    public init(stateDirectory: String) throws {
        path = stateDirectory + "/journal.log"
        records = []
        if let data = FileManager.default.contents(atPath: path) {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            for line in data.split(separator: 0x0A) {
                // A torn last line (a crash mid-write) is not a record.
                if let record = try? decoder.decode(Record.self, from: Data(line)) { records.append(record) }
            }
        }
    }

    /// Appends and fsyncs a record.
    public func append(_ record: Record) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var line = try encoder.encode(record)
        line.append(0x0A)
        try lock.withLock {
            let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw MigrationError("cannot open the journal \(path)") }
            defer { close(fd) }
            // A torn line from a crash has no newline: start on a line of our own.
            var end = stat()
            if fstat(fd, &end) == 0, end.st_size > 0, let last = lastByte(fd: fd, size: Int(end.st_size)), last != 0x0A {
                _ = "\n".withCString { write(fd, $0, 1) }
            }
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == line.count, fsync(fd) == 0 else { throw MigrationError("cannot write the journal \(path) (disk full?)") }
            records.append(record)
        }
    }

    private func lastByte(fd: Int32, size: Int) -> UInt8? {
        var byte: UInt8 = 0
        return pread(fd, &byte, 1, off_t(size - 1)) == 1 ? byte : nil
    }

    func has(_ kind: Record.Kind, location: String? = nil) -> Bool {
        lock.withLock { records.contains { $0.kind == kind && (location == nil || $0.location == location) } }
    }

    /// Where a column's rewrite stands: the pass and the last key of its last recorded batch; `nil` when
    /// it has none.
    func cursor(for location: String) -> (pass: Int, lastKey: RowKey?)? {
        lock.withLock {
            records.last { $0.kind == .batch && $0.location == location }.map { ($0.pass ?? 1, $0.lastKey) }
        }
    }

    /// Whether the column was finished, and whether the whole migration finished after that (a new run
    /// then passes over the column afresh; a run resuming an unfinished migration skips it).
    func columnState(_ location: String) -> (done: Bool, migrationFinishedSince: Bool) {
        lock.withLock {
            guard let index = records.lastIndex(where: { ($0.kind == .batch || $0.kind == .columnDone) && $0.location == location }),
                records[index].kind == .columnDone
            else { return (false, false) }
            return (true, records[index...].contains { $0.kind == .finished })
        }
    }

    /// Conflicts recorded in one pass over `location` (by every run that worked on it).
    func conflicts(for location: String, pass: Int) -> Int {
        lock.withLock {
            records.filter { $0.kind == .batch && $0.location == location && ($0.pass ?? 1) == pass }.reduce(0) { $0 + ($1.conflicts ?? 0) }
        }
    }

    /// Row keys recorded as skipped (unreadable) for `location`.
    func skipped(for location: String) -> Set<String> {
        lock.withLock { Set(records.filter { $0.kind == .skipped && $0.location == location }.compactMap { $0.lastKey?.description }) }
    }
}
