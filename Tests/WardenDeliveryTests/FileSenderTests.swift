import Foundation
import Testing
import WardenDelivery

#if canImport(Glibc)
import Glibc
#endif

struct FileSenderTests {
    struct Line: Decodable, Equatable {
        let time: String
        let channel: String
        let to: String
        let subject: String?
        let body: String
    }

    static func lines(_ path: String) throws -> [Line] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func writesOneJSONLinePerMessageWithMode0600() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let fixed = Date(timeIntervalSince1970: 1_748_941_445)
        let events = EventRecorder()
        let sender = FileSender(directory: "\(directory.path)/data", onEvent: events.handler, now: { fixed })
        try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Grüße", body: "Code: 123456\nline \"two\""))
        try await sender.send(SMSMessage(to: "+447700900123", body: "Code 654321 🔐"))

        #expect(
            try Self.lines(sender.outboxPath) == [
                Line(time: "2025-06-03T09:04:05Z", channel: "email", to: "ada@example.org", subject: "Grüße", body: "Code: 123456\nline \"two\""),
                Line(time: "2025-06-03T09:04:05Z", channel: "sms", to: "+447700900123", subject: nil, body: "Code 654321 🔐"),
            ])
        #expect(try Self.mode(sender.outboxPath) == 0o600)
        #expect(try Self.mode("\(directory.path)/data") == 0o700)
        #expect(events.all.map(\.action) == ["delivery.sent", "delivery.sent"])
        #expect(events.all.map(\.channel) == [.email, .sms])
        #expect(events.all.allSatisfy { $0.transport == "file" })
    }

    @Test func fiftyConcurrentSendsMakeFiftyIntactLines() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let sender = FileSender(directory: directory.path)
        let filler = String(repeating: "x", count: 5000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        try await sender.send(SMSMessage(to: "+44770090\(1000 + index)", body: "\(index) \(filler)"))
                    } else {
                        try await sender.send(EmailMessage(from: "a@example.com", to: "u\(index)@example.org", subject: "\(index)", body: "\(index) \(filler)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let lines = try Self.lines(sender.outboxPath)
        #expect(lines.count == 50)
        #expect(Set(lines.map { Int($0.body.prefix { $0 != " " })! }) == Set(0..<50))
        #expect(lines.allSatisfy { $0.body.hasSuffix(filler) })
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660])
    func refusesAnOutboxOthersCanRead(_ mode: Int) async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = "\(directory.path)/outbox.jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: mode])
        #expect(try Self.mode(path) == mode)
        let events = EventRecorder()
        let marker = "CODE-\(UUID().uuidString)"
        let sender = FileSender(directory: directory.path, onEvent: events.handler)
        let error = try await #require(throws: DeliveryError.self) { try await sender.send(SMSMessage(to: "+447700900123", body: marker)) }
        #expect(error.code == .misconfigured)
        #expect(error.message.contains("chmod 600"))
        #expect(!error.description.contains(marker))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
        #expect(events.all.map(\.action) == ["delivery.failed"])
    }

    @Test func refusesASymbolicLinkAsTheOutbox() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let target = "\(directory.path)/elsewhere"
        _ = FileManager.default.createFile(atPath: target, contents: Data(), attributes: [.posixPermissions: 0o600])
        try FileManager.default.createSymbolicLink(atPath: "\(directory.path)/outbox.jsonl", withDestinationPath: target)
        let error = try await #require(throws: DeliveryError.self) {
            try await FileSender(directory: directory.path).send(SMSMessage(to: "+447700900123", body: "x"))
        }
        #expect(error.code == .misconfigured)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)).isEmpty)
    }

    @Test func validatesMessagesLikeTheRealSenders() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let sender = FileSender(directory: directory.path)
        let email = await #expect(throws: DeliveryError.self) {
            try await sender.send(EmailMessage(from: "a@example.com", to: "b@example.org", subject: "x\r\nBcc: c@evil.example", body: "x"))
        }
        #expect(email?.code == .rejected)
        let sms = await #expect(throws: DeliveryError.self) { try await sender.send(SMSMessage(to: "07700900123", body: "x")) }
        #expect(sms?.code == .rejected)
        #expect(!FileManager.default.fileExists(atPath: sender.outboxPath))
    }
}
