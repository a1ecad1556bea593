import NIOCore
import Synchronization

/// One pull request: `fetch` asks for up to `batch` messages and returns what arrived.
extension JetStream {
    /// Pulls up to `batch` messages from a pull consumer. Returns when the batch is full, when
    /// the request expired (status 408) or, with `noWait`, when nothing more is pending (404),
    /// with whatever arrived (possibly nothing).
    /// - Parameters:
    ///   - expires: How long the server keeps the request open.
    ///   - idleHeartbeat: The server sends a heartbeat this often while it has nothing; two
    ///     missed heartbeats end the fetch (the connection or server is gone) with what arrived,
    ///     or `JetStreamError.missedHeartbeats` when nothing did.
    /// - Throws: `JetStreamError.consumerDeleted`, `JetStreamError.pullFailed` (409: too many
    ///   waiting pulls, batch too large…) when nothing arrived, `NATSError.noResponders` when
    ///   JetStream (or the stream) is not there.
    package func fetch(
        stream: String, consumer: String, batch: Int, expires: Duration = .seconds(5), idleHeartbeat: Duration? = nil, noWait: Bool = false
    ) async throws -> [JetStreamMessage] {
        let batch = max(1, batch)
        let requestSubject = "\(apiPrefix).CONSUMER.MSG.NEXT.\(try apiToken(stream)).\(try apiToken(consumer))"
        let inbox = client.newInbox()
        let (events, continuation) = AsyncStream.makeStream(of: PullEvent.self)
        let lastActivity = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
        let sid = try client.addSubscription(
            subject: inbox, queue: nil,
            deliver: { message in
                lastActivity.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
                continuation.yield(.message(message))
            },
            finish: { continuation.yield(.closed) }
        )
        // The server's 408 normally ends the request; this is for when it cannot arrive.
        let clientDeadline = noWait ? timeout : expires + .seconds(1)
        let deadline = client.eventLoop.scheduleTask(in: clientDeadline.timeAmount) { continuation.yield(.deadline) }
        var watchdog: RepeatedTask?
        if let idleHeartbeat, !noWait {
            let limit = 2 * UInt64(max(1, idleHeartbeat.nanoseconds))
            watchdog = client.eventLoop.scheduleRepeatedTask(initialDelay: idleHeartbeat.timeAmount, delay: idleHeartbeat.timeAmount) { _ in
                if NIODeadline.now().uptimeNanoseconds &- lastActivity.load(ordering: .relaxed) > limit { continuation.yield(.heartbeatsMissed) }
            }
        }
        defer {
            deadline.cancel()
            watchdog?.cancel()
            client.removeSubscription(sid: sid)
            continuation.finish()
        }
        try client.publish(
            subject: requestSubject,
            payload: Self.pullRequest(batch: batch, expires: noWait ? nil : expires, idleHeartbeat: noWait ? nil : idleHeartbeat, noWait: noWait),
            reply: inbox
        )

        var messages: [JetStreamMessage] = []
        for await event in events {
            switch event {
            case .message(let message):
                switch PullStatus(message) {
                case .message:
                    messages.append(JetStreamMessage(message: message, client: client, replyFromServer: true))
                    if messages.count >= batch { return messages }
                case .heartbeat:
                    continue
                case .ended:
                    return messages
                case .noResponders:
                    throw NATSError.noResponders(subject: requestSubject)
                case .consumerDeleted:
                    throw JetStreamError.consumerDeleted
                case .failed(let status, let description):
                    if messages.isEmpty { throw JetStreamError.pullFailed(status: status, description: description) }
                    return messages
                }
            case .deadline:
                return messages
            case .heartbeatsMissed:
                if messages.isEmpty { throw JetStreamError.missedHeartbeats }
                return messages
            case .closed:
                if messages.isEmpty { throw NATSError.connectionClosed }
                return messages
            }
        }
        try Task.checkCancellation()
        return messages
    }

    /// The JSON of a pull request.
    static func pullRequest(batch: Int, expires: Duration?, idleHeartbeat: Duration?, noWait: Bool) -> ByteBuffer {
        var body = ByteBuffer()
        body.reserveCapacity(96)
        body.writeStaticString("{\"batch\":")
        body.writeDecimal(batch)
        if let expires {
            body.writeStaticString(",\"expires\":")
            body.writeDecimal(Int(expires.nanoseconds))
        }
        if let idleHeartbeat {
            body.writeStaticString(",\"idle_heartbeat\":")
            body.writeDecimal(Int(idleHeartbeat.nanoseconds))
        }
        if noWait { body.writeStaticString(",\"no_wait\":true") }
        body.writeStaticString("}")
        return body
    }
}

private enum PullEvent: Sendable {
    case message(NATSMessage)
    case deadline
    case heartbeatsMissed
    case closed
}

/// What a message on a pull's inbox means.
enum PullStatus: Equatable {
    /// A stream message.
    case message
    /// 100: idle heartbeat (the pull is alive).
    case heartbeat
    /// 404 (nothing pending, no_wait), 408 (expired), or a 409 that ends this request but
    /// leaves the consumer usable (leadership change, server shutdown, size limit).
    case ended(pendingMessages: Int?)
    case noResponders
    case consumerDeleted
    /// Other 409s (too many waiting pulls, batch or expiry beyond the consumer's limits) and
    /// unexpected statuses.
    case failed(status: Int, description: String)

    init(_ message: NATSMessage) {
        guard let status = message.status else {
            self = .message
            return
        }
        let description = message.statusDescription ?? ""
        let pending = message.headers?["Nats-Pending-Messages"].flatMap { Int($0) }
        switch status {
        case 100:
            self = .heartbeat
        case 404, 408:
            self = .ended(pendingMessages: pending)
        case 409:
            let lowered = description.lowercased()
            if lowered.contains("consumer deleted") {
                self = .consumerDeleted
            } else if lowered.contains("leadership change") || lowered.contains("server shutdown") || lowered.contains("exceeds maxbytes") {
                self = .ended(pendingMessages: pending)
            } else {
                self = .failed(status: status, description: description)
            }
        case 503:
            self = .noResponders
        default:
            self = .failed(status: status, description: description)
        }
    }
}
