public import Foundation
internal import SwiftASN1
internal import X509

/// What a certificate file says about the server certificate in it (the first one): its validity period,
/// its subject alternative names, and whether it looks like one Warden generated for itself.
///
/// `warden serve` uses it at start: a certificate Warden generated is renewed before it expires, and any
/// other is reported (expired, not yet valid, expiring soon, missing a name the server answers to) but
/// never replaced.
public struct CertificateInspection: Sendable, Equatable {
    public let notValidBefore: Date
    public let notValidAfter: Date
    /// DNS names among the subject alternative names, as written.
    public let dnsNames: [String]
    /// IP addresses among the subject alternative names, as raw bytes (4 or 16).
    public let ipAddressBytes: [[UInt8]]
    /// Self-issued with the subject `CN=warden` that ``CertificateGenerator/selfSigned(commonName:dnsNames:ipAddresses:validity:now:keyType:)``
    /// writes by default: the kind ``CertificateGenerator/ensure(directory:dnsNames:ipAddresses:now:renewalWindow:)``
    /// may renew.
    public let generatedByWarden: Bool

    /// Reads the first certificate of a PEM file.
    ///
    /// - Throws: ``TLSSetupError`` with ``TLSSetupError/Code/fileSystem`` when the file cannot be read and
    ///   ``TLSSetupError/Code/invalidCertificate`` when it holds no parsable PEM certificate.
    public static func read(certificatePath: String) throws(TLSSetupError) -> CertificateInspection {
        let bytes = try PrivateFile.read(certificatePath, what: "certificate file", ownerOnly: false)
        do {
            let documents = try PEMDocument.parseMultiple(pemString: String(decoding: bytes, as: UTF8.self))
            guard let first = documents.first(where: { $0.discriminator == "CERTIFICATE" }) else {
                throw TLSSetupError(.invalidCertificate, "the certificate file \(certificatePath) holds no PEM certificate")
            }
            return try CertificateInspection(Certificate(pemDocument: first))
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError(.invalidCertificate, "the certificate file \(certificatePath) holds no valid PEM certificate", cause: error)
        }
    }

    init(_ certificate: Certificate) throws {
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        var dns: [String] = []
        var addresses: [[UInt8]] = []
        for name in try certificate.extensions.subjectAlternativeNames.map(Array.init) ?? [] {
            switch name {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let value): addresses.append(Array(value.bytes))
            default: break
            }
        }
        dnsNames = dns
        ipAddressBytes = addresses
        let wardenName = try DistinguishedName { CommonName("warden") }
        generatedByWarden = certificate.issuer == certificate.subject && certificate.subject == wardenName
    }

    /// Whether the certificate should be replaced by `now`: not yet valid, or expiring within `window`.
    public func needsRenewal(at now: Date, window: TimeInterval) -> Bool {
        now < notValidBefore || now >= notValidAfter - window
    }

    /// What an operator should hear about this certificate at `now` when the server answers to
    /// `dnsNames` and `ipAddresses`: expired, not yet valid, expiring within `window`, names missing.
    /// Empty when all is well.
    public func warnings(
        at now: Date, dnsNames expectedNames: [String] = [], ipAddresses expectedAddresses: [String] = [],
        window: TimeInterval = 30 * 86_400
    ) -> [String] {
        var warnings: [String] = []
        let expiry = notValidAfter.formatted(.iso8601)
        if now >= notValidAfter {
            warnings.append("the TLS certificate expired at \(expiry); clients will refuse it")
        } else if now < notValidBefore {
            warnings.append("the TLS certificate is not valid before \(notValidBefore.formatted(.iso8601)); clients will refuse it")
        } else if now >= notValidAfter - window {
            let days = Int((notValidAfter.timeIntervalSince(now) / 86_400).rounded(.down))
            warnings.append("the TLS certificate expires at \(expiry) (in \(days) days); renew it")
        }
        let held = Set(dnsNames.map { $0.lowercased() })
        let missingNames = expectedNames.filter { !held.contains($0.lowercased()) }
        let missingAddresses = expectedAddresses.filter { text in
            guard let bytes = try? SubjectNames.ipAddressBytes(text) else { return false }
            return !ipAddressBytes.contains(bytes)
        }
        let missing = missingNames + missingAddresses
        if !missing.isEmpty {
            warnings.append("the TLS certificate does not name \(missing.joined(separator: ", ")); clients connecting by that name will refuse it")
        }
        return warnings
    }
}
