import NIOCore

/// What the publish path and the connection share: the phase, the outbound buffer and the
/// PINGs waiting for their PONGs. Guarded by one lock; publishers append, the event loop drains.
struct OutboundState: Sendable {
    enum Phase: Sendable {
        case connecting
        case connected(any Channel)
        /// Lost; reconnecting. Publishes keep buffering up to the limit.
        case disconnected
        case closed
    }

    /// Who waits for a PONG: the keepalive timer or a `flush()` caller.
    enum PongWaiter: Sendable {
        case keepalive
        case flush(EventLoopPromise<Void>)
    }

    var phase: Phase = .connecting
    /// Operations not yet handed to the channel.
    var buffer: ByteBuffer
    /// A drain of `buffer` is queued on the event loop.
    var flushScheduled = false
    /// PINGs still in `buffer` (they survive a reconnect with it) and PINGs on the wire (lost
    /// with the connection), in the order the server will answer them.
    var pongWaitersInBuffer: [PongWaiter] = []
    var pongWaitersOnWire = CircularBuffer<PongWaiter>()
    var outstandingKeepalives = 0
    var capacityWaiters: [CheckedContinuation<Void, any Error>] = []
    /// The server's max_payload (1 MiB until its INFO says otherwise).
    var maxPayload = 1024 * 1024

    var connectedChannel: (any Channel)? {
        if case .connected(let channel) = phase { return channel }
        return nil
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }
}

/// A live subscription, as the client re-creates it after a reconnect and delivers to it.
struct SubscriptionRecord: Sendable {
    var subject: String
    var queue: String?
    /// Called on the event loop for each message.
    var deliver: @Sendable (NATSMessage) -> Void
    /// Called once when the subscription ends (unsubscribe or client close).
    var finish: @Sendable () -> Void
}

/// Someone waiting for replies on the shared inbox.
struct ReplyHandler: Sendable {
    /// Stays registered after a reply (many replies), or is removed by the first.
    var persistent: Bool
    var deliver: @Sendable (NATSMessage) -> Void
    var fail: @Sendable (any Error) -> Void
}

/// Subscriptions and reply handlers, looked up for every inbound message.
struct Registry: Sendable {
    var subscriptions: [Int: SubscriptionRecord] = [:]
    var nextSID = 1
    var replyHandlers: [Int: ReplyHandler] = [:]
    var nextReplyToken = 1
    var closed = false
}

/// Reconnect bookkeeping, touched by the event loop and `close()`.
struct Lifecycle: Sendable {
    var servers: [NATSServerAddress]
    /// The server of the current (or last) connection.
    var serverIndex = 0
    var reconnectTask: Scheduled<Void>?
    var keepaliveTask: RepeatedTask?
    var everConnected = false
    var serverInfo: NATSServerInfo?
}
