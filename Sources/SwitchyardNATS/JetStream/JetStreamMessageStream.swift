import Logging
import NIOCore
import Synchronization

extension JetStream {
    /// A continuous pull from a pull consumer: messages as an async sequence, with the next
    /// pull request sent while the current batch is still being worked through (once fewer
    /// than half a batch are requested or waiting to be read), so the reader rarely waits.
    ///
    /// Expired requests (408) and lost ones (two idle heartbeats missed: a reconnect, a server
    /// gone) are replaced by new pulls. The sequence ends when the consumer is deleted
    /// (throwing `JetStreamError.consumerDeleted`), on `stop()`, when the reader stops, or when
    /// the client closes.
    package func messages(
        stream: String, consumer: String, batch: Int = 500, expires: Duration = .seconds(30), idleHeartbeat: Duration = .seconds(5)
    ) throws -> JetStreamMessageStream {
        let puller = ContinuousPull(
            client: client,
            requestSubject: "\(apiPrefix).CONSUMER.MSG.NEXT.\(try apiToken(stream)).\(try apiToken(consumer))",
            batch: max(1, batch), expires: expires, idleHeartbeat: min(idleHeartbeat, expires / 2)
        )
        try puller.start()
        return JetStreamMessageStream(puller: puller)
    }
}

/// The messages of a continuous pull; read it from one task.
package struct JetStreamMessageStream: AsyncSequence, Sendable {
    package typealias Element = JetStreamMessage
    fileprivate let puller: ContinuousPull

    /// Ends the sequence (no more pulls); messages already delivered stay unacknowledged until
    /// their ack wait passes.
    package func stop() { puller.finish(throwing: nil) }

    package func makeAsyncIterator() -> Iterator {
        Iterator(base: puller.stream.makeAsyncIterator(), puller: puller)
    }

    package struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<JetStreamMessage, any Error>.Iterator
        fileprivate let puller: ContinuousPull

        package mutating func next() async throws -> JetStreamMessage? {
            guard let message = try await base.next() else { return nil }
            puller.consumed()
            return message
        }
    }
}

/// Keeps about one batch of messages requested or buffered: each arriving message moves one
/// from "requested" to "buffered", each read removes one, and a new request tops it up to a
/// batch whenever the sum falls to half.
private final class ContinuousPull: Sendable {
    let client: NATSClient
    let requestSubject: String
    let inbox: String
    let batch: Int
    let expires: Duration
    let idleHeartbeat: Duration
    let stream: AsyncThrowingStream<JetStreamMessage, any Error>
    private let continuation: AsyncThrowingStream<JetStreamMessage, any Error>.Continuation
    private let state = Mutex(State())

    private struct State: Sendable {
        /// Messages requested by open pull requests and not yet arrived.
        var requested = 0
        /// Messages arrived and not yet read.
        var buffered = 0
        var lastActivity = NIODeadline.now()
        var sid: Int?
        var watchdog: RepeatedTask?
        var finished = false
    }

    init(client: NATSClient, requestSubject: String, batch: Int, expires: Duration, idleHeartbeat: Duration) {
        self.client = client
        self.requestSubject = requestSubject
        self.inbox = client.newInbox()
        self.batch = batch
        self.expires = expires
        self.idleHeartbeat = idleHeartbeat
        (stream, continuation) = AsyncThrowingStream.makeStream(of: JetStreamMessage.self)
    }

    deinit {
        let (sid, watchdog) = state.withLock { ($0.sid, $0.watchdog) }
        watchdog?.cancel()
        if let sid { client.removeSubscription(sid: sid) }
    }

    func start() throws {
        let sid = try client.addSubscription(
            subject: inbox, queue: nil,
            deliver: { [weak self] message in self?.received(message) },
            finish: { [weak self] in self?.finish(throwing: nil) }
        )
        let interval = idleHeartbeat.timeAmount
        let watchdog = client.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
            guard let self else { return task.cancel() }
            self.checkHeartbeats()
        }
        state.withLock { state in
            state.sid = sid
            state.watchdog = watchdog
        }
        continuation.onTermination = { [weak self] _ in self?.finish(throwing: nil) }
        pullIfNeeded()
    }

    /// Sends a pull request when fewer than half a batch are requested or buffered.
    func pullIfNeeded() {
        let count = state.withLock { state -> Int? in
            let outstanding = state.requested + state.buffered
            guard !state.finished, outstanding <= batch / 2 else { return nil }
            let count = batch - outstanding
            state.requested += count
            return count
        }
        guard let count else { return }
        do {
            try client.publish(
                subject: requestSubject,
                payload: JetStream.pullRequest(batch: count, expires: expires, idleHeartbeat: idleHeartbeat, noWait: false),
                reply: inbox
            )
        } catch NATSError.connectionClosed {
            finish(throwing: nil)
        } catch {
            // Buffer full: the heartbeat check tries again.
            state.withLock { $0.requested -= count }
            client.logger.warning("JetStream pull request not sent", metadata: ["error": "\(error)"])
        }
    }

    /// A message on the inbox (on the event loop).
    private func received(_ message: NATSMessage) {
        state.withLock { $0.lastActivity = .now() }
        switch PullStatus(message) {
        case .message:
            state.withLock { state in
                state.requested = max(0, state.requested - 1)
                state.buffered += 1
            }
            continuation.yield(JetStreamMessage(message: message, client: client))
        case .heartbeat:
            break
        case .ended(let pendingMessages):
            // The request is over: what it did not deliver is no longer requested.
            state.withLock { state in state.requested = max(0, state.requested - (pendingMessages ?? state.requested)) }
            pullIfNeeded()
        case .noResponders:
            // JetStream is not answering (a restart, an election): try again shortly.
            state.withLock { $0.requested = 0 }
            client.eventLoop.scheduleTask(in: .milliseconds(250)) { [weak self] in self?.pullIfNeeded() }
        case .consumerDeleted:
            finish(throwing: JetStreamError.consumerDeleted)
        case .failed(let status, let description):
            client.logger.warning("JetStream pull request refused", metadata: ["status": "\(status)", "description": "\(description)"])
            state.withLock { $0.requested = 0 }
            client.eventLoop.scheduleTask(in: .milliseconds(250)) { [weak self] in self?.pullIfNeeded() }
        }
    }

    func consumed() {
        state.withLock { $0.buffered = max(0, $0.buffered - 1) }
        pullIfNeeded()
    }

    /// Two heartbeat intervals without anything on the inbox while messages are requested: the
    /// requests are gone (reconnect, server restart); request anew.
    private func checkHeartbeats() {
        let now = NIODeadline.now()
        let limit = idleHeartbeat.timeAmount * 2
        let lost = state.withLock { state -> Bool in
            guard !state.finished, state.requested > 0, now - state.lastActivity > limit else { return false }
            state.requested = 0
            state.lastActivity = now
            return true
        }
        if lost {
            client.logger.info("JetStream pull missed its heartbeats; pulling again", metadata: ["subject": "\(requestSubject)"])
        }
        pullIfNeeded()
    }

    func finish(throwing error: (any Error)?) {
        let resources = state.withLock { state -> (sid: Int?, watchdog: RepeatedTask?)? in
            guard !state.finished else { return nil }
            state.finished = true
            defer {
                state.sid = nil
                state.watchdog = nil
            }
            return (state.sid, state.watchdog)
        }
        // Ending the subscription calls back here: that (second) call must not finish the
        // stream again, without the error.
        guard let (sid, watchdog) = resources else { return }
        watchdog?.cancel()
        if let sid { client.removeSubscription(sid: sid) }
        continuation.finish(throwing: error)
    }
}
