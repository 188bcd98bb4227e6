import Testing
import WardenCore
import WardenMFA

/// MFAError's codes are `ErrorCode`s now, no longer a frozen enum: the raw strings, which API responses,
/// audit entries and docs/mfa.md show, must stay exactly what the enum's were.
struct MFAErrorTests {
    @Test(arguments: [
        (MFAError.Code.invalidParameters, "invalid_parameters"),
        (.invalidCode, "invalid_code"),
        (.locked, "locked"),
        (.rateLimited, "rate_limited"),
        (.reauthenticationRequired, "reauthentication_required"),
        (.unavailableMethod, "unavailable_method"),
        (.deliveryFailed, "delivery_failed"),
        (.unavailable, "unavailable"),
        (.notFound, "not_found"),
    ])
    func rawValuesAreUnchanged(_ code: MFAError.Code, _ raw: String) {
        #expect(code.rawValue == raw)
        #expect(code.description == raw)
        #expect(MFAError.Code(raw) == code)
    }

    @Test func codesCompareByValueAndCanGrow() {
        let error = MFAError(.locked, "too many failed attempts; try again later", retryAfter: 30)
        #expect(error.code == .locked && error.code != .invalidCode)
        #expect(error.description == "locked: too many failed attempts; try again later")
        // A code this release does not name is still a value callers can hold, compare and hash.
        let future = MFAError.Code("step_up_expired")
        #expect(future != .invalidCode && Set([future, .locked, future]).count == 2)
        #expect(MFAError.invalidCode == MFAError(.invalidCode, "the code is not valid"))
    }
}
