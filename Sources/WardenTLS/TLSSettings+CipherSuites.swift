public import NIOSSL

extension TLSSettings {
    /// The only cipher suites a server offers to TLS 1.2 clients: ephemeral elliptic-curve Diffie-Hellman
    /// key exchange with an AEAD cipher (AES-GCM or ChaCha20-Poly1305), for RSA and ECDSA certificates.
    ///
    /// Left out on purpose: static-RSA key exchange (`TLS_RSA_WITH_…`: no forward secrecy, and the
    /// target of Bleichenbacher-style padding oracles such as ROBOT) and every CBC suite (MAC-then-encrypt,
    /// the source of Lucky 13 and POODLE-style padding oracles). The order is the server's preference
    /// when a client offers several: 128-bit AES-GCM first (fast with AES instructions, strong enough),
    /// then 256-bit AES-GCM, then ChaCha20-Poly1305 for clients without AES instructions.
    ///
    /// > Important: This list governs TLS 1.2 only. TLS 1.3 has its own, fixed set of suites
    /// > (`TLS_AES_128_GCM_SHA256`, `TLS_AES_256_GCM_SHA384`, `TLS_CHACHA20_POLY1305_SHA256`), all of
    /// > them ephemeral key exchange with an AEAD, which BoringSSL does not let a cipher list change.
    public static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}
