import Crypto
import Foundation
import WardenAudit
import WardenCore

/// Sending SMS and email codes: rate limits, the pending code stored before sending and removed again if
/// sending fails, and the message.
extension MFAService {
    func sendCode(to factor: MFAState.Factor, destination: String, accountID: UUID, purpose: String, context: AuditContext) async throws {
        guard let messenger else { throw MFAError(.unavailableMethod, "no \(factor.kind.rawValue) sender is configured") }
        let now = clock.now()
        if let retry = try await guarded({ try await policy.sendsPerAccount.exceeded(key: "mfa.send.account:" + Self.key(accountID), in: limiter, now: now) }) {
            throw MFAError(.rateLimited, "too many codes requested; try again later", retryAfter: retry)
        }
        if let address = context.sourceAddress,
            let retry = try await guarded({ try await policy.sendsPerAddress.exceeded(key: "mfa.send.address:" + address, in: limiter, now: now) })
        {
            throw MFAError(.rateLimited, "too many codes requested from this address; try again later", retryAfter: retry)
        }
        let destinationKey = hasher.hash(destination, salt: "", purpose: "destination")
        if let retry = try await guarded({ try await policy.sendsPerDestination.exceeded(key: "mfa.send.destination:" + destinationKey, in: limiter, now: now) }) {
            throw MFAError(.rateLimited, "too many codes sent to this destination; try again later", retryAfter: retry)
        }
        let code = Self.randomDigits(policy.codeDigits)
        let salt = SecretHasher.salt()
        let pending = MFAState.PendingCode(
            factorID: factor.id, salt: salt, hash: hasher.hash(code, salt: salt, purpose: "code:" + factor.id.uuidString),
            created: now, expires: now.addingTimeInterval(policy.codeLifetime), attempts: 0)
        let subject = Self.subject(accountID)
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [policy] state in
                if MFALockout(state.failures, rules: MFALockout.Rules(policy)).admit(at: now) != .proceed {
                    throw MFAError(.locked, "too many failed attempts; try again later")
                }
                // A new code voids the factor's earlier one.
                state.pendingCodes.removeAll { $0.factorID == factor.id || $0.expires <= now }
                state.pendingCodes.append(pending)
                return MFAUpdate(())
            }
        }
        let minutes = Int((policy.codeLifetime / 60).rounded(.up))
        let body = "Your \(policy.issuer) code to \(purpose) is \(code). It expires in \(minutes) minute\(minutes == 1 ? "" : "s"). Never share it."
        do {
            try await messenger.deliver(factor.kind, to: destination, subject: "Your \(policy.issuer) verification code", body: body)
        } catch {
            // Not sent: the code must not be usable, and the failure is recorded.
            try await guarded {
                try await store.updateMFA(accountID: accountID) { state in
                    state.pendingCodes.removeAll { $0.hash == pending.hash }
                    return MFAUpdate(
                        (), audit: [context.event("mfa.delivery_failed", .failure, subject: subject, details: ["channel": factor.kind.rawValue, "factor": factor.id.uuidString.lowercased()], at: now)])
                }
            }
            throw MFAError(.deliveryFailed, "the \(factor.kind == .sms ? "text message" : "email") could not be sent; try again later")
        }
        try await guarded {
            try await store.updateMFA(accountID: accountID) { _ in
                MFAUpdate((), audit: [context.event("mfa.code_sent", subject: subject, details: ["channel": factor.kind.rawValue, "factor": factor.id.uuidString.lowercased()], at: now)])
            }
        }
    }

    /// Uniform random decimal digits.
    static func randomDigits(_ count: Int) -> String {
        let modulus = HOTP.powers[count]
        let limit = UInt32.max - UInt32.max % modulus
        while true {
            let value = SymmetricKey(size: .bits128).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            guard value < limit else { continue }
            let text = String(value % modulus)
            return String(repeating: "0", count: count - text.count) + text
        }
    }

}
