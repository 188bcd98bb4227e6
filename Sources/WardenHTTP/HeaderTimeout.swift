import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// A deadline for a request's head: once the first byte of a request has arrived (for a connection's first
/// request: once the connection is open), the whole head (request line and headers) must follow within the
/// header timeout, or the connection is closed.
///
/// Hummingbird's idle timeout only sees parsed HTTP parts, so a client sending its headers a byte at a
/// time (slowloris) holds a connection until the idle timeout. Two handlers fix that:
/// ``RequestBytesWatch`` sits in front of the HTTP decoder (behind TLS) and starts the clock at the first
/// byte of a request; ``RequestHeadSignal`` sits behind the decoder and tells it, by an outbound user
/// event, when the head has been parsed and when the response has been written.
struct HeaderTimeoutChannel<Base: HTTPChannelHandler>: HTTPChannelHandler {
    typealias Value = Base.Value
    let base: Base
    let timeout: TimeAmount

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(RequestBytesWatch(timeout: timeout))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// What ``RequestHeadSignal`` tells ``RequestBytesWatch``.
enum RequestHeadEvent: Sendable {
    case headReceived
    case responseFinished
}

/// Starts the header deadline at the first byte of a request and closes the connection if the head has
/// not been parsed by then. Bytes pass through untouched.
final class RequestBytesWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData

    private enum State {
        /// Between requests: no byte of the next one yet (the idle timeout applies).
        case awaitingRequest
        /// Bytes of a request have arrived; its head has not been parsed yet.
        case readingHead(Scheduled<Void>)
        /// The head has been parsed; the request is being read or answered.
        case inRequest
    }

    private let timeout: TimeAmount
    private var state = State.awaitingRequest
    /// Heads parsed minus responses finished: a pipelining client's next head can be parsed before the
    /// previous response has been written.
    private var unanswered = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    // A new connection's first head is due within the timeout of the connection opening (this also
    // bounds a TLS handshake sent slowly); later heads, within the timeout of their first byte.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startDeadline(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        startDeadline(context)
        context.fireChannelRead(data)
    }

    private func startDeadline(_ context: ChannelHandlerContext) {
        guard case .awaitingRequest = state else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (watch, context) = loopBound.value
            guard case .readingHead = watch.state else { return }
            watch.state = .inRequest
            context.close(promise: nil)
        }
        state = .readingHead(deadline)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestHeadEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .headReceived:
            if case .readingHead(let deadline) = state { deadline.cancel() }
            unanswered += 1
            state = .inRequest
        case .responseFinished:
            unanswered = max(0, unanswered - 1)
            // Bytes of a next request that arrived meanwhile without a complete head are already in the
            // decoder; the idle timeout still applies to them.
            if case .inRequest = state, unanswered == 0 { state = .awaitingRequest }
        }
        promise?.succeed()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if case .readingHead(let deadline) = state { deadline.cancel() }
        state = .inRequest
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .readingHead(let deadline) = state { deadline.cancel() }
        state = .inRequest
        context.fireChannelInactive()
    }
}

/// Behind the HTTP decoder: reports each parsed request head, and each response's end, to
/// ``RequestBytesWatch``.
final class RequestHeadSignal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            context.triggerUserOutboundEvent(RequestHeadEvent.headReceived, promise: nil)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd { context.triggerUserOutboundEvent(RequestHeadEvent.responseFinished, promise: nil) }
    }
}
