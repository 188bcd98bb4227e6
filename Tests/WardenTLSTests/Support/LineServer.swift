import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A TLS server on `127.0.0.1` and a free port that sends one line to each client that completes the
/// handshake, then closes the connection; it records the TLS version of every completed handshake.
final class LineServer: Sendable {
    static let line = "warden-tls-ok"

    private let channel: any Channel
    private let versions: Versions
    let port: Int

    /// The TLS versions of the handshakes completed so far.
    var negotiatedVersions: [TLSVersion] { versions.all }

    private init(channel: any Channel, versions: Versions) {
        self.channel = channel
        self.versions = versions
        self.port = channel.localAddress?.port ?? 0
    }

    /// Runs `body` with a server that uses `context`, closing the server afterwards.
    static func with<T>(context: NIOSSLContext, _ body: (LineServer) async throws -> T) async throws -> T {
        let versions = Versions()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(LineHandler(versions: versions))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let server = LineServer(channel: channel, versions: versions)
        do {
            let result = try await body(server)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private final class Versions: Sendable {
        private let values = Mutex<[TLSVersion]>([])
        func append(_ version: TLSVersion) { values.withLock { $0.append(version) } }
        var all: [TLSVersion] { values.withLock { $0 } }
    }

    private final class LineHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let versions: Versions

        init(versions: Versions) { self.versions = versions }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent {
                if let version = try? context.pipeline.syncOperations.nioSSL_tlsVersion() {
                    versions.append(version)
                }
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: LineServer.line + "\n")), promise: nil)
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
