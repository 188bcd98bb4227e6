import Foundation
import Logging
import WardenCore

/// Logs an attempt's outcome and hands it to the event handler: the one place senders report from, so
/// no sender logs anything but a transport name, a channel and a safe error message.
struct DeliveryReporter: Sendable {
    let channel: DeliveryEvent.Channel
    let transport: String
    let logger: Logger
    let onEvent: DeliveryEventHandler?
    let now: @Sendable () -> Date

    func sent() async {
        logger.debug("message delivered", metadata: ["channel": "\(channel.rawValue)", "transport": "\(transport)"])
        await onEvent?(DeliveryEvent(time: now(), channel: channel, transport: transport, error: nil))
    }

    func failed(_ error: DeliveryError) async {
        logger.warning(
            "message not delivered",
            metadata: [
                "channel": "\(channel.rawValue)", "transport": "\(transport)",
                "code": "\(error.code.rawValue)", "reason": "\(error.message)",
            ])
        await onEvent?(DeliveryEvent(time: now(), channel: channel, transport: transport, error: error))
    }

    /// Runs `attempt`, reports its outcome and passes it on.
    func report(_ attempt: () async throws(DeliveryError) -> Void) async throws(DeliveryError) {
        do {
            try await attempt()
        } catch {
            await failed(error)
            throw error
        }
        await sent()
    }
}
