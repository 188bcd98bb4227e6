import Crypto
import Foundation
public import NIOSSL
import Synchronization

/// The server's TLS context, built from the certificate and key files and rebuilt when their contents
/// change, so that new connections use a renewed pair without a restart (connections already open keep
/// the context they started with).
///
/// > Important: A changed pair is installed only if it would be accepted at start: the key file readable
/// > by its owner alone, both files valid PEM, the key the certificate's. Anything else is refused (the
/// > caller logs it) and the pair in use stays.
public final class ReloadingTLSContext: Sendable {
    /// What a check found.
    public enum Outcome: Sendable {
        /// The files hold what is already in use (or what was last refused).
        case unchanged
        /// A new pair is in use from now on.
        case reloaded
        /// The files changed, but into something unusable; the pair in use stays.
        case refused(TLSSetupError)
    }

    private struct State {
        var context: NIOSSLContext
        var inspection: CertificateInspection
        /// SHA-256 over both files' contents as last seen, installed or refused.
        var seen: [UInt8]
    }

    public let settings: TLSSettings
    private let state: Mutex<State>

    /// Loads the pair as ``TLSSettings/makeServerContext()`` does.
    public init(settings: TLSSettings) throws(TLSSetupError) {
        self.settings = settings
        let seen = try Self.digest(settings)
        let context = try settings.makeServerContext()
        let inspection = try CertificateInspection.read(certificatePath: settings.certificatePath)
        state = Mutex(State(context: context, inspection: inspection, seen: seen))
    }

    /// The context for a new connection.
    public var context: NIOSSLContext { state.withLock { $0.context } }

    /// The certificate in use.
    public var certificate: CertificateInspection { state.withLock { $0.inspection } }

    /// Reads both files and, when their contents differ from what was last seen, builds and installs a
    /// context from them. A refused pair is reported once, not at every check.
    public func reloadIfChanged() -> Outcome {
        let digest: [UInt8]
        do {
            digest = try Self.digest(settings)
        } catch {
            // An unreadable or over-exposed key file: reported once per change of the certificate file.
            return state.withLock { state in
                let marker = Array(SHA256.hash(data: Array(error.message.utf8)))
                guard state.seen != marker else { return .unchanged }
                state.seen = marker
                return .refused(error)
            }
        }
        guard state.withLock({ $0.seen }) != digest else { return .unchanged }
        do {
            let context = try settings.makeServerContext()
            let inspection = try CertificateInspection.read(certificatePath: settings.certificatePath)
            state.withLock { $0 = State(context: context, inspection: inspection, seen: digest) }
            return .reloaded
        } catch {
            state.withLock { $0.seen = digest }
            return .refused(error)
        }
    }

    /// SHA-256 over the certificate file's contents and then the key file's (read as at start: the key
    /// refused when group or others may access it).
    private static func digest(_ settings: TLSSettings) throws(TLSSetupError) -> [UInt8] {
        let certificate = try PrivateFile.read(settings.certificatePath, what: "certificate file", ownerOnly: false)
        let key = try PrivateFile.read(settings.keyPath, what: "private key file", ownerOnly: true)
        var hasher = SHA256()
        hasher.update(data: certificate)
        hasher.update(data: key)
        return Array(hasher.finalize())
    }
}
