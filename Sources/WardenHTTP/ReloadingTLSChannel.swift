import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// TLS in front of `base`, with the context chosen per connection: each new connection takes the context
/// `context()` returns when it is accepted (``ReloadingTLSContext``: a renewed certificate is used
/// without a restart), connections already open keep theirs.
struct ReloadingTLSChannel<Base: HTTPChannelHandler>: HTTPChannelHandler {
    typealias Value = Base.Value
    let base: Base
    let context: @Sendable () -> NIOSSLContext

    init(base: Base, context: @escaping @Sendable () -> NIOSSLContext) {
        self.base = base
        self.context = context
    }

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context()))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
