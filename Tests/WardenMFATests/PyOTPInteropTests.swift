import Foundation
import Testing
import WardenCore
import WardenMFA
import WardenTestSupport

/// Warden's URIs and codes in pyotp, and pyotp's in Warden.
struct PyOTPInteropTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/otp_check.py").path

    func python(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let result = try await runProcess("/usr/bin/env", ["python3", Self.script] + arguments)
        let error = String(decoding: result.stderr, as: UTF8.self)
        if error.contains("ModuleNotFoundError") { Issue.record("pyotp is missing: run scripts/test.sh, which installs it (\(error))") }
        return (result.status, String(decoding: result.stdout, as: UTF8.self))
    }

    @Test(arguments: [(OTPAlgorithm.sha1, 6), (.sha256, 8), (.sha512, 7)])
    func ourURIAndCodesWorkInPyOTP(_ parameters: (OTPAlgorithm, Int)) async throws {
        let secret = (0..<20).map { _ in UInt8.random(in: 0...255) }
        let uri = OTPAuthURI.totp(secret: secret, issuer: "Warden", account: "ada@example.com", algorithm: parameters.0, digits: parameters.1, period: 30)
        let totp = try TOTP(secret: secret, algorithm: parameters.0, digits: parameters.1)
        for time in [1_800_000_000, 1_800_000_029, 2_000_000_000] {
            let date = Date(timeIntervalSince1970: TimeInterval(time))
            // pyotp reads the URI and computes the same code ...
            let theirs = try await python(["code", uri, String(time)])
            #expect(theirs.output.trimmingCharacters(in: .whitespacesAndNewlines) == totp.code(at: date))
            // ... and accepts ours.
            #expect(try await python(["verify", uri, String(time), totp.code(at: date)]).status == 0)
            // A wrong code is refused by both.
            let wrong = String(format: "%0\(parameters.1)d", (Int(totp.code(at: date))! + 1) % Int(pow(10, Double(parameters.1))))
            #expect(try await python(["verify", uri, String(time), wrong]).status == 1)
            #expect(totp.match(wrong, at: date, window: 0) == nil)
        }
    }

    @Test func pyOTPSecretsAndCodesVerifyInWarden() async throws {
        let time = 1_800_000_000
        let made = try await python(["make", String(time)])
        let lines = made.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        let components = try #require(URLComponents(string: lines[0]))
        let secretText = try #require(components.queryItems?.first { $0.name == "secret" }?.value)
        let secret = try #require(Base32.decode(secretText))
        let totp = try TOTP(secret: secret)
        #expect(totp.match(lines[1], at: Date(timeIntervalSince1970: TimeInterval(time)), window: 0) != nil)
    }
}

/// The enrolment QR code, read by a real decoder, gives an authenticator (pyotp) whose codes confirm the
/// device: the whole path a phone takes.
struct EnrollmentQRTests {
    @Test func scannedQRCodeEnrolsAnAuthenticator() async throws {
        let f = try await MFAFixture.make(.memory)
        let enrollment = try await f.service.enrollTOTP(
            accountID: f.account, accountName: "ada@example.com", deviceName: "phone", proof: .passwordOnly, context: MFAFixture.context)
        let png = try enrollment.qrPNG()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-qr-\(UUID().uuidString).png").path
        try Data(png).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let decode = "import sys, zxingcpp\nfrom PIL import Image\nprint(zxingcpp.read_barcodes(Image.open(sys.argv[1]))[0].text)"
        let decoded = try await runProcess("/usr/bin/env", ["python3", "-c", decode, path])
        #expect(decoded.status == 0, "\(String(decoding: decoded.stderr, as: UTF8.self))")
        let uri = String(decoding: decoded.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(uri == enrollment.uri)
        // The "phone" computes a code from what it scanned; Warden accepts it.
        let time = Int(f.now.timeIntervalSince1970)
        let code = try await PyOTPInteropTests().python(["code", uri, String(time)]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try await f.service.confirm(accountID: f.account, factorID: enrollment.factorID, code: code, context: MFAFixture.context)
        #expect(try await f.service.methods(accountID: f.account) == [.totp])
        // The SVG form carries the same symbol.
        #expect(try enrollment.qrSVG().hasPrefix("<?xml") || enrollment.qrSVG().hasPrefix("<svg"))
    }
}
