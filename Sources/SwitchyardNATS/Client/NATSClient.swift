import Foundation
package import Logging
package import NIOCore
import NIOPosix
import Synchronization

/// A NATS client on SwiftNIO: publish, subscribe, request/reply, with reconnect over a server
/// list (including servers learned from the cluster), re-subscription, and publishes buffered
/// while disconnected.
///
/// Publishing appends to one outbound buffer under a lock; the connection's event loop drains
/// it once per tick, so bursts of publishes become few large writes.
package final class NATSClient: Sendable {
    let logger: Logger
    let options: NATSClientOptions
    let eventLoop: any EventLoop
    /// `_INBOX.<random>.`: replies to requests arrive on `<prefix><token>`, one wildcard
    /// subscription for all of them.
    let inboxPrefix: String
    let outbound: Mutex<OutboundState>
    let registry: Mutex<Registry>
    let lifecycle: Mutex<Lifecycle>
    private let reconnects = Atomic<Int>(0)

    /// The shared inbox's subscription id, taken before any other.
    static let inboxSID = 1

    private init(servers: [NATSServerAddress], options: NATSClientOptions, logger: Logger) {
        self.logger = logger
        self.options = options
        self.eventLoop = (options.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton).next()
        self.inboxPrefix = "_INBOX.\(NUID.next())."
        self.outbound = Mutex(OutboundState(buffer: ByteBufferAllocator().buffer(capacity: 16 * 1024)))
        var registry = Registry()
        registry.subscriptions[Self.inboxSID] = SubscriptionRecord(subject: inboxPrefix + "*", queue: nil, deliver: { _ in }, finish: {})
        registry.nextSID = Self.inboxSID + 1
        self.registry = Mutex(registry)
        self.lifecycle = Mutex(Lifecycle(servers: servers))
    }

    /// Connects to the first server of `servers` that accepts (each tried once); reconnects
    /// later go round the whole list, plus the servers the cluster announces.
    /// - Parameter servers: "nats://host:port" (or "host:port"); an element may hold several,
    ///   comma-separated.
    package static func connect(servers: [String], options: NATSClientOptions = .init(), logger: Logger) async throws -> NATSClient {
        let addresses = try servers.flatMap { $0.split(separator: ",") }.map { try NATSServerAddress(parsing: String($0)) }
        guard !addresses.isEmpty else { throw NATSError.invalidServerURL("") }
        let client = NATSClient(servers: addresses, options: options, logger: logger)
        try await client.connectInitially().get()
        return client
    }

    /// `connect` logging as "switchyard.nats".
    package static func connect(servers: [String], options: NATSClientOptions = .init()) async throws -> NATSClient {
        try await connect(servers: servers, options: options, logger: Logger(label: "switchyard.nats"))
    }

    // MARK: State

    package var isConnected: Bool { outbound.withLock { $0.connectedChannel != nil } }
    package var isClosed: Bool { outbound.withLock { $0.isClosed } }
    /// Successful reconnects since the first connection.
    package var reconnectCount: Int { reconnects.load(ordering: .relaxed) }
    /// The servers the client knows (given and learned), and the one it uses.
    package var knownServers: [NATSServerAddress] { lifecycle.withLock { $0.servers } }
    package var currentServer: NATSServerAddress? {
        lifecycle.withLock { $0.servers.indices.contains($0.serverIndex) ? $0.servers[$0.serverIndex] : nil }
    }
    /// The `max_payload` of the current server.
    package var maxPayload: Int { outbound.withLock { $0.maxPayload } }
    package var serverVersion: String? { lifecycle.withLock { $0.serverInfo?.version } }

    func countReconnect() { reconnects.add(1, ordering: .relaxed) }

    // MARK: Publish

    /// Queues a message; it goes out with the next write of this event loop tick (or after a
    /// reconnect). Throws for invalid subjects/headers, oversize messages, a full outbound buffer
    /// or a closed client.
    package func publish(subject: String, payload: ByteBuffer, headers: NATSHeaders? = nil, reply: String? = nil) throws {
        try NATSSubjectValidation.validate(subject)
        if let reply { try NATSSubjectValidation.validate(reply) }
        try enqueuePublish(subject: subject, reply: reply.map { .full($0) }, headers: headers, payload: payload)
    }

    package func publish(subject: String, payload: [UInt8], headers: NATSHeaders? = nil, reply: String? = nil) throws {
        try publish(subject: subject, payload: ByteBuffer(bytes: payload), headers: headers, reply: reply)
    }

    // MARK: Subscribe

    /// Subscribes to `subject` (wildcards allowed), optionally in queue group `queue`. Returns
    /// once the server has seen the subscription (or, while disconnected, at once: it is sent
    /// on reconnect). The subscription ends when unsubscribed, when its reader stops, or when
    /// the client closes.
    package func subscribe(subject: String, queue: String? = nil) async throws -> NATSSubscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: NATSMessage.self, bufferingPolicy: .bufferingOldest(options.subscriptionPendingLimit)
        )
        let logger = self.logger
        let dropped = Atomic<Int>(0)
        let sid = try addSubscription(
            subject: subject, queue: queue,
            deliver: { message in
                if case .dropped = continuation.yield(message) {
                    // Logged at powers of two, so a stuck reader does not flood the log.
                    let count = dropped.add(1, ordering: .relaxed).newValue
                    if count & (count - 1) == 0 {
                        logger.warning("NATS slow consumer: messages dropped", metadata: ["subject": "\(subject)", "dropped": "\(count)"])
                    }
                }
            },
            finish: { continuation.finish() }
        )
        continuation.onTermination = { [weak self] _ in self?.removeSubscription(sid: sid) }
        if isConnected {
            do { try await flush() } catch NATSError.disconnected {} catch NATSError.timeout {}
        }
        return NATSSubscription(client: self, sid: sid, subject: subject, stream: stream)
    }

    /// Registers a subscription whose messages are handed to `deliver` on the event loop (it
    /// must not block), and sends SUB.
    func addSubscription(
        subject: String, queue: String?, deliver: @escaping @Sendable (NATSMessage) -> Void, finish: @escaping @Sendable () -> Void
    ) throws -> Int {
        try NATSSubjectValidation.validate(subject)
        if let queue { try NATSSubjectValidation.validateQueue(queue) }
        let sid = try registry.withLock { registry throws(NATSError) -> Int in
            guard !registry.closed else { throw NATSError.connectionClosed }
            let sid = registry.nextSID
            registry.nextSID += 1
            registry.subscriptions[sid] = SubscriptionRecord(subject: subject, queue: queue, deliver: deliver, finish: finish)
            return sid
        }
        // Also queued while disconnected: a SUB the reconnect already re-sent is ignored by the
        // server (same sid), so no window exists where it is lost.
        try enqueue(reserving: subject.utf8.count + (queue?.utf8.count ?? 0) + 32) { buffer throws(NATSError) in
            try NATSCommandEncoder.writeSubscribe(subject: subject, queue: queue, sid: sid, into: &buffer)
        }
        return sid
    }

    /// Ends subscription `sid`: no more deliveries, UNSUB to the server.
    func removeSubscription(sid: Int) {
        guard let record = registry.withLock({ $0.subscriptions.removeValue(forKey: sid) }) else { return }
        record.finish()
        try? enqueue(reserving: 32) { buffer throws(NATSError) in
            NATSCommandEncoder.writeUnsubscribe(sid: sid, into: &buffer)
        }
    }

    /// Called on the event loop for each MSG/HMSG.
    func deliver(sid: Int, message: NATSMessage) {
        if sid == Self.inboxSID {
            routeReply(message)
            return
        }
        guard let deliver = registry.withLock({ $0.subscriptions[sid]?.deliver }) else { return }
        deliver(message)
    }

    // MARK: Inboxes

    /// A fresh unique inbox subject (`_INBOX.<random>`), for `subscribe` when one request gets
    /// many replies.
    package func newInbox() -> String { "_INBOX.\(NUID.next())" }

    // MARK: Flush and close

    /// Returns once the server has processed everything sent before (a PING/PONG round trip).
    package func flush(timeout: Duration = .seconds(10)) async throws {
        let promise = eventLoop.makePromise(of: Void.self)
        try enqueue(reserving: 8, pongWaiter: .flush(promise)) { buffer throws(NATSError) in
            NATSCommandEncoder.writePing(into: &buffer)
        }
        let timer = eventLoop.scheduleTask(in: timeout.timeAmount) { promise.fail(NATSError.timeout) }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    /// Closes the connection without draining: subscriptions end, waiting requests fail with
    /// `NATSError.connectionClosed`, queued publishes are dropped.
    package func close() async {
        let channel = shutDown(reason: .connectionClosed)
        try? await channel?.close()
    }

    /// Marks the client closed and fails everyone waiting; returns the channel to close.
    @discardableResult
    func shutDown(reason: NATSError) -> (any Channel)? {
        let (channel, pongWaiters, capacityWaiters) = outbound.withLock { state in
            let channel = state.connectedChannel
            state.phase = .closed
            let waiters = state.pongWaitersInBuffer + Array(state.pongWaitersOnWire)
            state.pongWaitersInBuffer = []
            state.pongWaitersOnWire.removeAll()
            let capacityWaiters = state.capacityWaiters
            state.capacityWaiters = []
            state.buffer.clear()
            return (channel, waiters, capacityWaiters)
        }
        for case .flush(let promise) in pongWaiters { promise.fail(reason) }
        for waiter in capacityWaiters { waiter.resume(throwing: reason) }
        let (subscriptions, handlers) = registry.withLock { registry in
            registry.closed = true
            defer {
                registry.subscriptions = [:]
                registry.replyHandlers = [:]
            }
            return (Array(registry.subscriptions.values), Array(registry.replyHandlers.values))
        }
        for subscription in subscriptions { subscription.finish() }
        for handler in handlers { handler.fail(reason) }
        let (reconnectTask, keepaliveTask) = lifecycle.withLock { lifecycle in
            defer {
                lifecycle.reconnectTask = nil
                lifecycle.keepaliveTask = nil
            }
            return (lifecycle.reconnectTask, lifecycle.keepaliveTask)
        }
        reconnectTask?.cancel()
        keepaliveTask?.cancel()
        return channel
    }
}
