public import Foundation
public import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A development sender for both channels: appends each message as one JSON line to
/// `<directory>/outbox.jsonl` instead of delivering it.
///
/// Each line is an object with `time` (ISO 8601, UTC), `channel` (`email` or `sms`), `to`, `subject`
/// (email only) and `body`:
///
/// ```json
/// {"body":"Your code is 123456.","channel":"sms","time":"2025-06-03T09:04:05Z","to":"+447700900123"}
/// ```
///
/// Messages are validated exactly as the real senders validate them, so a message the outbox accepts is
/// one SMTP or the SMS provider would be given.
///
/// - Important: The outbox holds codes in the clear: it is for development only. It is created with mode
///   0600 (owner only) and never followed through a symbolic link; an existing outbox that group or other
///   users can access, or that belongs to another user, is refused with
///   ``DeliveryError/Code/misconfigured``. Writes are whole lines with `O_APPEND`, one writer at a time in
///   the process, so concurrent sends never interleave.
public struct FileSender: EmailSender, SMSSender {
    /// The directory that holds `outbox.jsonl` (created, mode 0700, if it is missing).
    public let directory: String
    private let emailReporter: DeliveryReporter
    private let smsReporter: DeliveryReporter
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - directory: The data directory.
    ///   - onEvent: Receives every attempt's outcome before `send` returns or throws.
    ///   - now: The clock for `time`.
    public init(
        directory: String, onEvent: DeliveryEventHandler? = nil,
        logger: Logger = Logger(label: "warden.delivery.file"), now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.directory = directory
        self.now = now
        emailReporter = DeliveryReporter(channel: .email, transport: "file", logger: logger, onEvent: onEvent, now: now)
        smsReporter = DeliveryReporter(channel: .sms, transport: "file", logger: logger, onEvent: onEvent, now: now)
    }

    /// The outbox file.
    public var outboxPath: String { (directory as NSString).appendingPathComponent("outbox.jsonl") }

    /// Appends an email to the outbox.
    ///
    /// - Throws: ``DeliveryError``: `.rejected` for an invalid message, `.misconfigured` when the outbox
    ///   cannot be written safely.
    public func send(_ message: EmailMessage) async throws(DeliveryError) {
        try await emailReporter.report { () async throws(DeliveryError) in
            try message.validate()
            try await append(Entry(time: now(), channel: "email", to: message.to, subject: message.subject, body: message.body))
        }
    }

    /// Appends a text message to the outbox.
    ///
    /// - Throws: ``DeliveryError``: `.rejected` for a number that is not E.164, `.misconfigured` when the
    ///   outbox cannot be written safely.
    public func send(_ message: SMSMessage) async throws(DeliveryError) {
        try await smsReporter.report { () async throws(DeliveryError) in
            try message.validate()
            try await append(Entry(time: now(), channel: "sms", to: message.to, subject: nil, body: message.body))
        }
    }

    private struct Entry: Encodable {
        let time: String
        let channel: String
        let to: String
        let subject: String?
        let body: String

        init(time: Date, channel: String, to: String, subject: String?, body: String) {
            self.time = time.formatted(.iso8601)
            self.channel = channel
            self.to = to
            self.subject = subject
            self.body = body
        }
    }

    private func append(_ entry: Entry) async throws(DeliveryError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(entry) else {
            throw DeliveryError(.rejected, "the message cannot be encoded as JSON")
        }
        line.append(UInt8(ascii: "\n"))
        let bytes = [UInt8](line)
        let directory = directory
        let path = outboxPath
        let result: Result<Void, DeliveryError>
        do {
            // Blocking file I/O runs on NIO's thread pool, not on the cooperative pool.
            result = try await NIOThreadPool.singleton.runIfActive {
                outboxLock.withLock { _ in Result { () throws(DeliveryError) in try Self.appendLine(bytes, to: path, in: directory) } }
            }
        } catch {
            throw DeliveryError(.unavailable, "the outbox writer is not running")
        }
        try result.get()
    }

    /// Opens (creating it 0600 if needed), checks and appends to the outbox in one `write` per line.
    private static func appendLine(_ bytes: [UInt8], to path: String, in directory: String) throws(DeliveryError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            guard errno == ENOENT, mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw DeliveryError(.misconfigured, "cannot create the outbox directory \(directory) (errno \(errno))")
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw DeliveryError(.misconfigured, "cannot open the outbox \(path) (errno \(errno))")
        }
        defer { close(fd) }
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw DeliveryError(.misconfigured, "the outbox \(path) is not a regular file")
        }
        guard info.st_uid == geteuid() else {
            throw DeliveryError(.misconfigured, "the outbox \(path) belongs to another user")
        }
        let mode = UInt32(info.st_mode) & 0o777
        guard mode & 0o077 == 0 else {
            throw DeliveryError(
                .misconfigured,
                "the outbox \(path) has mode \(String(mode, radix: 8)); it must be accessible by its owner only (chmod 600 \(path))")
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw DeliveryError(.unavailable, "cannot write to the outbox \(path) (errno \(errno))")
            }
            offset += written
        }
    }
}

/// One outbox writer at a time in the process, whichever `FileSender` (or directory) it is for.
private let outboxLock = Mutex(())
