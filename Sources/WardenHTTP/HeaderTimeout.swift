import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// The deadlines a connection's requests and responses are held to (``ServerConfiguration``'s
/// `headerTimeout`, `bodyTimeout`, `bodyMinimumRate`, `bodyRateGrace` and `responseTimeout`).
struct ConnectionDeadlines: Sendable {
    /// A request's head, from its first byte (a connection's first head: from the connection opening).
    var header: TimeAmount
    /// A request's body, from its head to its end, counting only the time the server waits for the client.
    var body: TimeAmount
    /// Bytes per second a body must average once `bodyRateGrace` of waiting has passed (0: no minimum).
    var bodyMinimumRate: Int
    var bodyRateGrace: TimeAmount
    /// A response, from its head being written to its last byte handed to the socket.
    var response: TimeAmount

    /// How often a body's clock is checked while it is being read.
    static let bodyCheckInterval = TimeAmount.milliseconds(250)
}

/// Deadlines for reading a request and for the client reading a response, so that a client sending its
/// request slowly (slowloris), or not reading its response, cannot hold a connection past them:
///
/// - **head**: once the first byte of a request has arrived (for a connection's first request: once the
///   connection is open), the whole head (request line and headers) must follow within the header timeout;
/// - **body**: from the head to the body's end, at most the body timeout, and after a grace period at least
///   the minimum rate on average. Only the time the server spends waiting for the client counts: while the
///   application has not asked for more of the body (backpressure), the client is not charged;
/// - **response**: a response's last byte must be written to the socket within the response timeout of its
///   head, so a reader that stops reading (its window full) loses the connection.
///
/// A connection past a deadline is closed. Hummingbird's idle timeout only sees parsed HTTP parts, so
/// two handlers do this: ``RequestBytesWatch`` sits in front of the HTTP decoder (behind TLS), sees every
/// byte and every read the server asks for; ``RequestHeadSignal`` sits behind the decoder and tells it when
/// a head and a body have been parsed and when a response starts and is written (by a direct call: the
/// two are on the same channel's event loop; an outbound user event through the pipeline when the watch
/// is not found).
struct HeaderTimeoutChannel<Base: HTTPChannelHandler>: HTTPChannelHandler {
    typealias Value = Base.Value
    let base: Base
    let deadlines: ConnectionDeadlines

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(RequestBytesWatch(deadlines: deadlines))
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
    case bodyReceived
    case responseStarted
    /// The response's end has been passed on to be written (a pipelining client's next head may follow).
    case responseFinished
    /// The response's last byte has been written to the socket (or the write failed).
    case responseWritten
}

/// The time a body has kept the server waiting, and the bytes it has brought.
struct BodyClock {
    var bytes = 0
    var waited = TimeAmount.zero
    /// When the server last asked for bytes it has not yet received.
    var waitingSince: NIODeadline?

    func elapsed(at now: NIODeadline) -> TimeAmount {
        waited + (waitingSince.map { now - $0 } ?? .zero)
    }

    /// Whether the body is past its deadline or, after the grace period, under the minimum rate.
    func isOverdue(at now: NIODeadline, _ deadlines: ConnectionDeadlines) -> Bool {
        let elapsed = elapsed(at: now)
        if elapsed >= deadlines.body { return true }
        guard deadlines.bodyMinimumRate > 0, elapsed >= deadlines.bodyRateGrace else { return false }
        return Double(bytes) < Double(deadlines.bodyMinimumRate) * Double(elapsed.nanoseconds) / 1e9
    }
}

/// Enforces ``ConnectionDeadlines`` on the bytes of one connection. Bytes pass through untouched.
final class RequestBytesWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData

    private enum State {
        /// Between requests: no byte of the next one yet (the idle timeout applies).
        case awaitingRequest
        /// Bytes of a request have arrived; its head has not been parsed yet, and is due by then.
        case readingHead(due: NIODeadline)
        /// The head has been parsed; the body is being read (the check runs once the server waits for it).
        case readingBody(BodyClock, RepeatedTask?)
        /// The request has been read; it is being answered.
        case answering
    }

    private let deadlines: ConnectionDeadlines
    /// This handler's context while it is in the pipeline (``signal(_:)`` is called from another handler).
    private var context: ChannelHandlerContext?
    private var state = State.awaitingRequest
    /// Heads parsed minus responses finished: a pipelining client's next head can be parsed before the
    /// previous response has been written.
    private var unanswered = 0
    /// When the responses started and not yet written are due, oldest first (writes complete in order).
    private var responsesDue: [NIODeadline] = []
    /// The connection's one timer, and when it fires. A request only notes when its head and its response
    /// are due; the timer, armed for the earliest of those, checks them when it fires and re-arms itself
    /// for the next. (A timer scheduled and cancelled per request cost about 5% of a `GET /health`:
    /// cancelling searches the event loop's whole queue of timers.)
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?
    /// Which arming the timer belongs to: a timer cancelled too late to stop it (already collected by the
    /// event loop to run) finds another generation and does nothing.
    private var timerGeneration = 0

    init(deadlines: ConnectionDeadlines) {
        self.deadlines = deadlines
    }

    // A new connection's first head is due within the timeout of the connection opening (this also
    // bounds a TLS handshake sent slowly); later heads, within the timeout of their first byte.
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startHeadDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startHeadDeadline(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .readingBody(var clock, let check) = state {
            clock.bytes += unwrapInboundIn(data).readableBytes
            if let since = clock.waitingSince {
                clock.waited = clock.waited + (NIODeadline.now() - since)
                clock.waitingSince = nil
            }
            state = .readingBody(clock, check)
        } else {
            startHeadDeadline(context)
        }
        context.fireChannelRead(data)
    }

    /// The server asks for more bytes: from now until they arrive, the body's clock runs.
    func read(context: ChannelHandlerContext) {
        if case .readingBody(var clock, var check) = state {
            if clock.waitingSince == nil { clock.waitingSince = .now() }
            if check == nil { check = scheduleBodyCheck(context) }
            state = .readingBody(clock, check)
        }
        context.read()
    }

    private func startHeadDeadline(_ context: ChannelHandlerContext) {
        guard case .awaitingRequest = state else { return }
        let due = NIODeadline.now() + deadlines.header
        state = .readingHead(due: due)
        arm(context, at: due)
    }

    /// Makes sure the timer fires by `due`: it is (re)scheduled only if it would fire later or not at all.
    private func arm(_ context: ChannelHandlerContext, at due: NIODeadline) {
        if let timerDue, timerDue <= due { return }
        timer?.cancel()
        timerGeneration &+= 1
        let generation = timerGeneration
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: due) {
            let (watch, context) = loopBound.value
            guard watch.timerGeneration == generation else { return }
            watch.timer = nil
            watch.timerDue = nil
            watch.expire(context)
        }
        timerDue = due
    }

    /// The timer has fired: closes the connection if a head or a response is past its time, else re-arms
    /// for the earliest one still pending.
    private func expire(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        var next = responsesDue.first
        if case .readingHead(let due) = state {
            if due <= now {
                state = .answering
                context.close(promise: nil)
                return
            }
            next = next.map { min($0, due) } ?? due
        }
        if let oldest = responsesDue.first, oldest <= now {
            context.close(promise: nil)
            return
        }
        if let next { arm(context, at: next) }
    }

    private func scheduleBodyCheck(_ context: ChannelHandlerContext) -> RepeatedTask {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let interval = ConnectionDeadlines.bodyCheckInterval
        return context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            let (watch, context) = loopBound.value
            guard case .readingBody(let clock, _) = watch.state else { return task.cancel() }
            guard clock.isOverdue(at: .now(), watch.deadlines) else { return }
            task.cancel()
            watch.state = .answering
            context.close(promise: nil)
        }
    }

    private func startResponseDeadline(_ context: ChannelHandlerContext) {
        let due = NIODeadline.now() + deadlines.response
        responsesDue.append(due)
        arm(context, at: due)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestHeadEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        signal(event)
        promise?.succeed()
    }

    /// What ``RequestHeadSignal`` reports, on the channel's event loop.
    func signal(_ event: RequestHeadEvent) {
        guard let context else { return }
        switch event {
        case .headReceived:
            unanswered += 1
            state = .readingBody(BodyClock(), nil)
        case .bodyReceived:
            stopBodyCheck()
            state = .answering
        case .responseStarted:
            startResponseDeadline(context)
        case .responseWritten:
            if !responsesDue.isEmpty { responsesDue.removeFirst() }
        case .responseFinished:
            unanswered = max(0, unanswered - 1)
            // Bytes of a next request that arrived meanwhile without a complete head are already in the
            // decoder; the idle timeout still applies to them.
            if case .answering = state, unanswered == 0 { state = .awaitingRequest }
        }
    }

    private func stopBodyCheck() {
        if case .readingBody(_, let check?) = state { check.cancel() }
    }

    private func stopAll() {
        stopBodyCheck()
        timer?.cancel()
        timerGeneration &+= 1
        timer = nil
        timerDue = nil
        responsesDue = []
        state = .answering
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopAll()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopAll()
        context.fireChannelInactive()
    }
}

/// Behind the HTTP decoder: reports each parsed request head and body end, and each response's start,
/// end and completed write, to ``RequestBytesWatch``.
final class RequestHeadSignal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart

    /// The watch in front of the decoder (added before this handler), told directly: an outbound user
    /// event passed through every handler between the two and was cast back from `Any` at the watch, four
    /// times a request.
    private var watch: RequestBytesWatch?

    func handlerAdded(context: ChannelHandlerContext) {
        watch = try? context.pipeline.syncOperations.handler(type: RequestBytesWatch.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watch = nil
    }

    private func report(_ event: RequestHeadEvent, _ context: ChannelHandlerContext) {
        if let watch {
            watch.signal(event)
        } else {
            context.triggerUserOutboundEvent(event, promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: report(.headReceived, context)
        case .end: report(.bodyReceived, context)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            report(.responseStarted, context)
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in
                let (signal, context) = loopBound.value
                signal.report(.responseWritten, context)
            }
            context.write(data, promise: written)
            report(.responseFinished, context)
        default:
            context.write(data, promise: promise)
        }
    }
}
