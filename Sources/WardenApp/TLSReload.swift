import Foundation
import Logging
import Synchronization
import WardenCore
import WardenHTTP
import WardenTLS

/// `warden serve`'s TLS maintenance, as a background job: a changed certificate or key file is loaded
/// for new connections (``ReloadingTLSContext``: refused, logged, and the pair in use kept when the key is
/// readable by others, the files are not valid PEM, or the key is not the certificate's), and a
/// certificate that is expired, not yet valid or expiring within 30 days is reported (a warning at the
/// first check and after each reload, then once a day; the gauge `warden_tls_certificate_expiry_seconds`
/// shows the time left at every scrape).
enum TLSReload {
    static func job(_ tls: ReloadingTLSContext, every interval: Duration, logger: Logger) -> PeriodicService {
        let lastReport = LastReport()
        return PeriodicService(name: "TLS certificate reload", every: interval, waitFirst: false, logger: logger) {
            var reloaded = false
            switch tls.reloadIfChanged() {
            case .unchanged:
                break
            case .reloaded:
                reloaded = true
                logger.notice(
                    "reloaded the TLS certificate and key; new connections use them",
                    metadata: [
                        "certificate": .string(tls.settings.certificatePath),
                        "not_valid_after": .string(tls.certificate.notValidAfter.formatted(.iso8601)),
                    ])
            case .refused(let error):
                logger.error(
                    "refused the changed TLS certificate or key; the pair in use stays",
                    metadata: [
                        "code": .string(error.code.rawValue), "reason": .string(error.message),
                    ])
            }
            let now = Date()
            if lastReport.isDue(at: now, force: reloaded) {
                for warning in tls.certificate.warnings(at: now) {
                    logger.warning("\(warning)", metadata: ["not_valid_after": .string(tls.certificate.notValidAfter.formatted(.iso8601))])
                }
            }
        }
    }

    /// When expiry was last reported: at most once a day, unless a reload asks for it.
    private final class LastReport: Sendable {
        private let last = Mutex<Date?>(nil)

        func isDue(at now: Date, force: Bool) -> Bool {
            last.withLock { last in
                guard force || last.map({ now.timeIntervalSince($0) >= 86_400 }) ?? true else { return false }
                last = now
                return true
            }
        }
    }
}
