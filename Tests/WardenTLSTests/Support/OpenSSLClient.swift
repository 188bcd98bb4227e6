import Foundation

/// Connects to a local server with `openssl s_client`, as an operator would check a deployment.
enum OpenSSLClient {
    struct Missing: Error, CustomStringConvertible {
        let description = "the openssl command was not found on PATH; install it (apt-get install openssl)"
    }

    /// Runs `openssl s_client` against `127.0.0.1:port` with the given protocol flag (`-tls1_3`,
    /// `-tls1_2`), trusting only `caFile` and failing the handshake when verification fails.
    ///
    /// Standard input is closed at once and `-ign_eof` keeps the client reading until the server closes
    /// the connection, so the server's line is always in the output; the timeout ends it otherwise.
    static func connect(port: Int, caFile: String, protocolFlag: String, extra: [String] = []) async throws -> ProcessOutput {
        let arguments =
            [
                "s_client", "-connect", "127.0.0.1:\(port)", protocolFlag, "-CAfile", caFile,
                "-verify_return_error", "-servername", "localhost", "-ign_eof",
            ] + extra
        let result = try await ExternalProcess.runOnPath("openssl", arguments, timeout: .seconds(20))
        if result.status == 127 { throw Missing() }
        return result
    }
}
