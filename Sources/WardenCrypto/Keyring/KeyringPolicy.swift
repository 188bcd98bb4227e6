public import Foundation

/// When keys rotate, and how seals are counted.
public struct KeyringPolicy: Sendable, Equatable {
    /// The age at which the primary version is rotated (default 30 days).
    public var rotationPeriod: TimeInterval
    /// Seals allowed under one version before rotation is forced (default 2^30).
    ///
    /// NIST SP 800-38D §8.3 bounds AES-GCM with random 96-bit nonces to 2^32 invocations per key; 2^30
    /// keeps the nonce-collision probability below 2^-33.
    public var sealLimit: UInt64
    /// Seals reserved in the store per round trip (default 2^16). A crashed process loses at most its
    /// unused reservation, which stays counted as used.
    public var sealReservation: UInt64

    public init(rotationPeriod: TimeInterval = 30 * 86_400, sealLimit: UInt64 = 1 << 30, sealReservation: UInt64 = 1 << 16) {
        self.rotationPeriod = rotationPeriod
        self.sealLimit = sealLimit
        self.sealReservation = sealReservation
    }
}
