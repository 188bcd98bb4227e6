import Logging
import NIOCore
import NIOSSL

/// Drives one ``SMTPClientStateMachine`` over a channel: frames replies, performs the machine's actions,
/// times every step out, and completes ``result`` exactly once: with success as soon as the server
/// accepts the message, with a ``DeliveryError`` otherwise.
///
/// Lives on its channel's event loop; nothing here is touched from elsewhere.
final class SMTPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: SMTPClientStateMachine
    private var parser = SMTPReplyParser()
    private var received: ByteBuffer?
    private let content: MIMEContent
    private let makeTLSHandler: () throws -> NIOSSLClientHandler
    private let commandTimeout: TimeAmount
    private let serverName: String
    private let logger: Logger
    private let promise: EventLoopPromise<Void>
    private var timeout: Scheduled<Void>?
    private var isCompleted = false

    /// Succeeds when the message has been accepted; fails with a ``DeliveryError``.
    var result: EventLoopFuture<Void> { promise.futureResult }

    init(
        machine: SMTPClientStateMachine, content: MIMEContent, serverName: String, commandTimeout: TimeAmount,
        logger: Logger, eventLoop: any EventLoop, makeTLSHandler: @escaping () throws -> NIOSSLClientHandler
    ) {
        self.machine = machine
        self.content = content
        self.serverName = serverName
        self.commandTimeout = commandTimeout
        self.logger = logger
        self.makeTLSHandler = makeTLSHandler
        self.promise = eventLoop.makePromise()
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimeout(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
        while !isCompleted || machine.isDelivered, received != nil {
            let reply: SMTPReply?
            do {
                reply = try parser.parse(&received!)
            } catch {
                fail(DeliveryError(.unavailable, "SMTP server \(serverName) sent a malformed reply (\(error))"), context: context)
                return
            }
            guard let reply else { break }
            timeout?.cancel()
            logger.trace("smtp reply", metadata: ["code": "\(reply.code)", "step": "\(machine.step)"])
            perform(machine.replyReceived(reply), context: context)
        }
        if received?.readableBytes == 0 { received = nil }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(Self.deliveryError(for: error, serverName: serverName, step: machine.step), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if !isCompleted {
            fail(DeliveryError(.unavailable, "SMTP server \(serverName) closed the connection during \(machine.step)"), context: context)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        if !isCompleted {
            isCompleted = true
            promise.fail(DeliveryError(.unavailable, "connection to SMTP server \(serverName) ended during \(machine.step)"))
        }
    }

    private func perform(_ action: SMTPClientStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let command):
            logger.trace("smtp command", metadata: ["command": "\(command.verb)"])
            write(Array(command.line.utf8), context: context)
        case .startTLS:
            // Anything the server sent after its 220 arrived in plaintext and would be taken as
            // coming over TLS (the STARTTLS injection attack, CVE-2011-0411): refuse it.
            guard (received?.readableBytes ?? 0) == 0, !parser.hasPartialReply else {
                fail(DeliveryError(.unavailable, "SMTP server \(serverName) sent data after its STARTTLS reply"), context: context)
                return
            }
            do {
                try context.pipeline.syncOperations.addHandler(makeTLSHandler(), position: .first)
            } catch {
                fail(DeliveryError(.misconfigured, "cannot start TLS with SMTP server \(serverName)"), context: context)
                return
            }
            // The TLS handler starts its handshake at once and holds our writes until the handshake
            // has succeeded (a failed one reaches `errorCaught`), so the next EHLO can go now; its
            // timeout covers the handshake too.
            perform(machine.tlsEstablished(), context: context)
        case .sendContent(let eightBit):
            logger.trace("smtp content", metadata: ["eightBit": "\(eightBit)"])
            write(eightBit ? content.eightBit ?? content.sevenBit : content.sevenBit, context: context)
        case .delivered:
            isCompleted = true
            promise.succeed()
            write(Array(SMTPCommand.quit.line.utf8), context: context)
        case .fail(let error, let sendQuit):
            if sendQuit {
                complete(with: error)
                let bytes = context.channel.allocator.buffer(string: SMTPCommand.quit.line)
                context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                fail(error, context: context)
            }
        case .close:
            context.close(promise: nil)
        case .none:
            break
        }
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        armTimeout(context: context)
    }

    private func armTimeout(context: ChannelHandlerContext) {
        timeout?.cancel()
        let step = machine.step
        let seconds = commandTimeout.nanoseconds / 1_000_000_000
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: commandTimeout) { [self] in
            if machine.isDelivered {
                context.close(promise: nil)
            } else {
                fail(DeliveryError(.unavailable, "SMTP server \(serverName) did not answer \(step) within \(seconds) s"), context: context)
            }
        }
    }

    private func complete(with error: DeliveryError) {
        timeout?.cancel()
        guard !isCompleted else { return }
        isCompleted = true
        promise.fail(error)
    }

    private func fail(_ error: DeliveryError, context: ChannelHandlerContext) {
        let wasCompleted = isCompleted
        complete(with: error)
        if !wasCompleted { context.close(promise: nil) }
    }

    /// A channel error as a ``DeliveryError``: TLS failures (an untrusted certificate, a name mismatch)
    /// are configuration problems or an attack, never transient; anything else is the network.
    static func deliveryError(for error: any Error, serverName: String, step: String) -> DeliveryError {
        if let error = error as? DeliveryError { return error }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return DeliveryError(.misconfigured, "the certificate of SMTP server \(serverName) is not valid for its host name")
        }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed:
                return DeliveryError(
                    .misconfigured,
                    "TLS handshake with SMTP server \(serverName) failed (certificate not trusted or not valid for the host: \(error))")
            default:
                return DeliveryError(.unavailable, "TLS with SMTP server \(serverName) failed during \(step) (\(error))")
            }
        }
        return DeliveryError(.unavailable, "connection to SMTP server \(serverName) failed during \(step)")
    }
}
