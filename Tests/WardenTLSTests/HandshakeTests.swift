import Foundation
import NIOSSL
import Testing
import WardenTLS

/// A real server built from ``TLSSettings/makeServerContext()``, checked with `openssl s_client` and with
/// Python's `ssl` module: TLS 1.3 handshakes are accepted and verify against the generated certificate,
/// TLS 1.2 handshakes are refused unless TLS 1.2 was opted into, and then offer only ECDHE with AEAD suites.
@Suite("Live TLS handshakes")
struct HandshakeTests {
    private func withServer<T>(
        minimumVersion: TLSSettings.MinimumVersion = .tls13, keyType: CertificateKeyType = .rsa4096,
        _ body: (LineServer, Fixture.Files) async throws -> T
    ) async throws -> T {
        try await Fixture.withFiles(keyType) { files in
            let settings = TLSSettings(
                certificatePath: files.certificatePath, keyPath: files.keyPath, minimumVersion: minimumVersion)
            return try await LineServer.with(context: try settings.makeServerContext()) { server in
                try await body(server, files)
            }
        }
    }

    @Test("openssl: a TLS 1.3 handshake is accepted and verifies for localhost and 127.0.0.1")
    func openSSLAcceptsTLS13() async throws {
        try await withServer { server, files in
            for check in [["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"]] {
                let result = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_3", extra: check)
                #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
                #expect(result.stdout.contains("New, TLSv1.3, Cipher is TLS_"), "\(result.stdout)")
                #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)")
                #expect(result.stdout.contains(LineServer.line), "\(result.stdout)")
            }
            #expect(server.negotiatedVersions == [.tlsv13, .tlsv13])
        }
    }

    @Test("openssl: a TLS 1.2 handshake is refused")
    func openSSLRefusesTLS12() async throws {
        try await withServer { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_2")
            #expect(result.status != 0 && !result.timedOut, "\(result.combined)")
            // s_client prints the version it offered under "SSL-Session" even when the handshake failed;
            // the "New, …" line names what was negotiated: nothing.
            #expect(result.stdout.contains("New, (NONE), Cipher is (NONE)"), "\(result.stdout)")
            #expect(!result.stdout.contains("New, TLSv1.2"), "\(result.stdout)")
            #expect(!result.stdout.contains(LineServer.line))
            #expect(result.stderr.contains("protocol version"), "\(result.stderr)")
            #expect(server.negotiatedVersions.isEmpty)
        }
    }

    @Test("openssl: a host name the certificate does not name fails verification")
    func openSSLRefusesOtherHostName() async throws {
        try await withServer { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_3",
                extra: ["-verify_hostname", "other.example"])
            #expect(result.status != 0 && !result.timedOut, "\(result.combined)")
            #expect(!result.stdout.contains(LineServer.line))
            #expect(result.combined.contains("hostname mismatch"), "\(result.combined)")
        }
    }

    @Test("openssl: TLS 1.2 is accepted once explicitly opted into")
    func openSSLAcceptsTLS12WhenOptedIn() async throws {
        try await withServer(minimumVersion: .tls12) { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_2",
                extra: ["-verify_hostname", "localhost"])
            #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
            #expect(result.stdout.contains("New, TLSv1.2, Cipher is ECDHE-"), "\(result.stdout)")
            #expect(result.stdout.contains(LineServer.line))
            #expect(server.negotiatedVersions == [.tlsv12])
        }
    }

    /// TLS 1.2 suites NIOSSL's default cipher list accepted: static-RSA key exchange (no forward secrecy,
    /// RSA decryption padding oracles), with CBC or GCM, and ECDHE with CBC (MAC-then-encrypt).
    static let refusedTLS12Suites = [
        "AES128-SHA", "AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA",
    ]

    @Test("openssl: with TLS 1.2 allowed, static-RSA and CBC suites are refused", arguments: refusedTLS12Suites)
    func openSSLRefusesWeakTLS12Suite(_ suite: String) async throws {
        try await withServer(minimumVersion: .tls12) { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_2",
                extra: ["-cipher", suite, "-verify_hostname", "localhost"])
            #expect(result.status != 0 && !result.timedOut, "\(result.combined)")
            #expect(result.stdout.contains("New, (NONE), Cipher is (NONE)"), "\(result.stdout)")
            #expect(!result.stdout.contains(LineServer.line))
            // BoringSSL answers a client hello with no acceptable suite with a handshake_failure alert.
            #expect(result.stderr.contains("handshake failure"), "\(result.stderr)")
            #expect(server.negotiatedVersions.isEmpty)
        }
    }

    @Test(
        "openssl: with TLS 1.2 allowed, ECDHE with AES-GCM or ChaCha20-Poly1305 is accepted",
        arguments: ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"])
    func openSSLAcceptsAEADTLS12Suite(_ suite: String) async throws {
        try await withServer(minimumVersion: .tls12) { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_2",
                extra: ["-cipher", suite, "-verify_hostname", "localhost"])
            #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
            #expect(result.stdout.contains("New, TLSv1.2, Cipher is \(suite)\n"), "\(result.stdout)")
            #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)")
            #expect(result.stdout.contains(LineServer.line))
            #expect(server.negotiatedVersions == [.tlsv12])
        }
    }

    @Test(
        "openssl: with TLS 1.2 allowed, TLS 1.3 still negotiates each of its suites",
        arguments: ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    func openSSLAcceptsTLS13SuitesWhenTLS12Allowed(_ suite: String) async throws {
        try await withServer(minimumVersion: .tls12) { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_3",
                extra: ["-ciphersuites", suite, "-verify_hostname", "localhost"])
            #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
            #expect(result.stdout.contains("New, TLSv1.3, Cipher is \(suite)\n"), "\(result.stdout)")
            #expect(result.stdout.contains(LineServer.line))
            #expect(server.negotiatedVersions == [.tlsv13])
        }
    }

    // MARK: - ECDSA P-256 certificates

    @Test("openssl: with an ec-p256 certificate, TLS 1.3 connects, verifies and the server signs with ECDSA")
    func openSSLAcceptsTLS13WithECDSA() async throws {
        try await withServer(keyType: .ecP256) { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_3",
                extra: ["-verify_hostname", "localhost"])
            #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
            #expect(result.stdout.contains("New, TLSv1.3, Cipher is TLS_"), "\(result.stdout)")
            #expect(result.stdout.contains("Peer signature type: ECDSA"), "\(result.stdout)")
            #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)")
            #expect(result.stdout.contains(LineServer.line))
            #expect(server.negotiatedVersions == [.tlsv13])
        }
    }

    @Test(
        "openssl: with an ec-p256 certificate and TLS 1.2 allowed, each ECDHE-ECDSA AEAD suite is accepted",
        arguments: ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"])
    func openSSLAcceptsECDSATLS12Suite(_ suite: String) async throws {
        try await withServer(minimumVersion: .tls12, keyType: .ecP256) { server, files in
            let result = try await OpenSSLClient.connect(
                port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_2",
                extra: ["-cipher", suite, "-verify_hostname", "localhost"])
            #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
            #expect(result.stdout.contains("New, TLSv1.2, Cipher is \(suite)\n"), "\(result.stdout)")
            #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)")
            #expect(result.stdout.contains(LineServer.line))
            #expect(server.negotiatedVersions == [.tlsv12])
        }
    }

    @Test("openssl: with an ec-p256 certificate and TLS 1.2 allowed, CBC and static-RSA suites are still refused")
    func openSSLRefusesWeakTLS12SuiteWithECDSA() async throws {
        try await withServer(minimumVersion: .tls12, keyType: .ecP256) { server, files in
            for suite in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "AES128-GCM-SHA256"] {
                let result = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_2",
                    extra: ["-cipher", suite, "-verify_hostname", "localhost"])
                #expect(result.status != 0 && !result.timedOut, "\(suite): \(result.combined)")
                #expect(result.stdout.contains("New, (NONE), Cipher is (NONE)"), "\(result.stdout)")
                #expect(!result.stdout.contains(LineServer.line))
            }
            #expect(server.negotiatedVersions.isEmpty)
        }
    }

    @Test("Python ssl: with an ec-p256 certificate, TLS 1.3 and (opted into) TLS 1.2 connect and verify")
    func pythonClientWithECDSA() async throws {
        try await withServer(minimumVersion: .tls12, keyType: .ecP256) { server, files in
            for version in ["1.3", "1.2"] {
                let report = try await Python.json(
                    ClientReport.self, script: "tls_client.py",
                    [String(server.port), files.certificatePath, "localhost", version, version])
                #expect(report.connected, "\(report.error ?? "")")
                #expect(report.version == "TLSv\(version)")
                #expect(report.line == LineServer.line)
            }
            #expect(server.negotiatedVersions == [.tlsv13, .tlsv12])
        }
    }

    @Test("Python ssl: TLS 1.3 connects with the certificate as CA for localhost; TLS 1.2 at most fails")
    func pythonClient() async throws {
        try await withServer { server, files in
            let arguments = { (minimum: String, maximum: String) in
                [String(server.port), files.certificatePath, "localhost", minimum, maximum]
            }
            let modern = try await Python.json(ClientReport.self, script: "tls_client.py", arguments("1.2", "1.3"))
            #expect(modern.connected, "\(modern.error ?? "")")
            #expect(modern.version == "TLSv1.3")
            #expect(modern.line == LineServer.line)

            let legacy = try await Python.json(ClientReport.self, script: "tls_client.py", arguments("1.2", "1.2"))
            #expect(!legacy.connected)
            #expect(legacy.version == nil)
            #expect(legacy.error?.contains("VERSION") == true, "\(legacy.error ?? "")")
            #expect(server.negotiatedVersions == [.tlsv13])
        }
    }
}

/// What `python/tls_client.py` prints.
private struct ClientReport: Decodable {
    var connected: Bool
    var version: String?
    var line: String?
    var error: String?
}
