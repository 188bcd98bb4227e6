import Foundation
import NIOSSL
import Testing
import WardenTLS

/// TLS session resumption against a server built from ``TLSSettings/makeServerContext()``: a client that
/// kept the session of its first connection resumes it on the next one (no certificate, no signature with
/// the server's key), in TLS 1.3 and in opted-into TLS 1.2, with either key type. A server with another
/// context (another process) does not accept the session: ticket keys belong to the context.
@Suite("TLS session resumption")
struct ResumptionTests {
    /// Every key type with every TLS version a server can be configured to accept.
    static let cases: [(CertificateKeyType, String)] = CertificateKeyType.allCases.flatMap { keyType in
        [(keyType, "1.3"), (keyType, "1.2")]
    }

    private func settings(_ files: Fixture.Files, version: String) -> TLSSettings {
        TLSSettings(
            certificatePath: files.certificatePath, keyPath: files.keyPath,
            minimumVersion: version == "1.2" ? .tls12 : .tls13)
    }

    /// `openssl s_client`'s flag for a version, and the name it prints.
    private func openSSLFlag(_ version: String) -> String { version == "1.2" ? "-tls1_2" : "-tls1_3" }

    @Test("openssl s_client: -sess_out, then -sess_in resumes the session", arguments: cases)
    func openSSLResumes(_ keyType: CertificateKeyType, _ version: String) async throws {
        try await Fixture.withFiles(keyType) { files in
            let session = files.directory + "/session.pem"
            try await LineServer.with(context: try settings(files, version: version).makeServerContext()) { server in
                let first = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: openSSLFlag(version),
                    extra: ["-verify_hostname", "localhost", "-sess_out", session])
                #expect(first.status == 0 && !first.timedOut, "\(first.combined)")
                #expect(first.stdout.contains("New, TLSv\(version), Cipher is "), "\(first.stdout)")
                #expect(FileManager.default.fileExists(atPath: session), "s_client wrote no session")

                let second = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: openSSLFlag(version),
                    extra: ["-verify_hostname", "localhost", "-sess_in", session])
                #expect(second.status == 0 && !second.timedOut, "\(second.combined)")
                #expect(second.stdout.contains("Reused, TLSv\(version), Cipher is "), "\(second.stdout)")
                #expect(second.stdout.contains(LineServer.line))
                let expected: TLSVersion = version == "1.2" ? .tlsv12 : .tlsv13
                #expect(server.negotiatedVersions == [expected, expected])
            }
        }
    }

    @Test("openssl s_client: a session from one server context is not resumed by another", arguments: cases)
    func openSSLDoesNotResumeAcrossContexts(_ keyType: CertificateKeyType, _ version: String) async throws {
        try await Fixture.withFiles(keyType) { files in
            let session = files.directory + "/session.pem"
            try await LineServer.with(context: try settings(files, version: version).makeServerContext()) { server in
                let first = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: openSSLFlag(version),
                    extra: ["-sess_out", session])
                #expect(first.status == 0 && !first.timedOut, "\(first.combined)")
            }
            // Same certificate and key, a new context: as a restarted or another `warden serve` would have.
            try await LineServer.with(context: try settings(files, version: version).makeServerContext()) { server in
                let second = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: openSSLFlag(version),
                    extra: ["-verify_hostname", "localhost", "-sess_in", session])
                #expect(second.status == 0 && !second.timedOut, "\(second.combined)")
                #expect(second.stdout.contains("New, TLSv\(version), Cipher is "), "\(second.stdout)")
                #expect(!second.stdout.contains("Reused,"), "\(second.stdout)")
                #expect(second.stdout.contains("Verify return code: 0 (ok)"), "\(second.stdout)")
            }
        }
    }

    @Test("Python ssl: the second connection with session= is session_reused", arguments: cases)
    func pythonResumes(_ keyType: CertificateKeyType, _ version: String) async throws {
        try await Fixture.withFiles(keyType) { files in
            try await LineServer.with(context: try settings(files, version: version).makeServerContext()) { server in
                let report = try await Python.json(
                    ResumptionReport.self, script: "tls_resume.py",
                    [String(server.port), String(server.port), files.certificatePath, "localhost", version])
                #expect(report.had_session)
                #expect(!report.first_reused)
                #expect(report.second_reused)
                #expect(report.versions == ["TLSv\(version)", "TLSv\(version)"])
                #expect(report.lines == [LineServer.line, LineServer.line])
            }
        }
    }

    @Test("Python ssl: a session is not resumed by a server with another context")
    func pythonDoesNotResumeAcrossContexts() async throws {
        try await Fixture.withFiles(.ecP256) { files in
            let settings = settings(files, version: "1.3")
            try await LineServer.with(context: try settings.makeServerContext()) { first in
                try await LineServer.with(context: try settings.makeServerContext()) { second in
                    let report = try await Python.json(
                        ResumptionReport.self, script: "tls_resume.py",
                        [String(first.port), String(second.port), files.certificatePath, "localhost", "1.3"])
                    #expect(report.had_session)
                    #expect(!report.first_reused && !report.second_reused)
                    #expect(report.lines == [LineServer.line, LineServer.line])
                }
            }
        }
    }
}

/// What `python/tls_resume.py` prints.
private struct ResumptionReport: Decodable {
    var had_session: Bool
    var first_reused: Bool
    var second_reused: Bool
    var versions: [String]
    var lines: [String]
}
