package import NIOCore
import Synchronization

/// A message to publish into a stream.
package struct JetStreamOutgoingMessage: Sendable {
    package var subject: String
    package var payload: ByteBuffer
    package var headers: NATSHeaders?
    /// Sent as `Nats-Msg-Id`: the stream drops repeats within its duplicate window, which also
    /// makes retrying a timed-out publish safe.
    package var messageID: String?

    package init(subject: String, payload: ByteBuffer, headers: NATSHeaders? = nil, messageID: String? = nil) {
        self.subject = subject
        self.payload = payload
        self.headers = headers
        self.messageID = messageID
    }
}

/// Publishes with up to `window` acks outstanding, for throughput: `publish` returns once the
/// message is queued (suspending while the window is full), acks are collected as they arrive,
/// and `waitForAcks()` hands back every outcome in publish order.
///
/// A publish answered "no responders" is retried after a short pause; one without an ack
/// within `ackTimeout` is retried when it has a message id (the stream de-duplicates it);
/// either gives up after `totalTimeout`.
package final class JetStreamPublisher: Sendable {
    private let client: NATSClient
    private let window: Int
    /// The window reopens for waiting publishers only once it has drained to here, so a full
    /// window does not wake the publisher for every single ack.
    private let reopenAt: Int
    private let ackTimeout: Duration
    private let totalTimeout: Duration
    private let state = Mutex(State())

    private struct InFlight: Sendable {
        var message: JetStreamOutgoingMessage
        var token = 0
        var firstSent: NIODeadline
        var lastSent: NIODeadline
    }

    private struct State: Sendable {
        var inFlight: [Int: InFlight] = [:]
        /// Outcomes since the last `waitForAcks()`; `results[i]` is publish `base + i`.
        var results: [Result<PubAck, any Error>?] = []
        var base = 0
        var windowWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        var sweeper: RepeatedTask?
    }

    package init(jetStream: JetStream, window: Int = 4000, ackTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30)) {
        self.client = jetStream.client
        self.window = max(1, window)
        self.reopenAt = max(0, self.window - max(1, self.window / 8))
        self.ackTimeout = ackTimeout
        self.totalTimeout = totalTimeout
        let interval = TimeAmount.milliseconds(max(20, min(250, ackTimeout.nanoseconds / 4_000_000)))
        let sweeper = client.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
            guard let self else { return task.cancel() }
            self.retryOrFailOverdue()
        }
        state.withLock { $0.sweeper = sweeper }
    }

    deinit {
        state.withLock { $0.sweeper?.cancel() }
    }

    /// Acks still outstanding.
    package var pendingCount: Int { state.withLock { $0.inFlight.count } }

    /// Queues one message, first waiting while `window` publishes are unacknowledged.
    /// Throws only for what can never succeed (an invalid subject); everything else is reported
    /// by `waitForAcks()`.
    package func publish(_ message: JetStreamOutgoingMessage) async throws {
        try NATSSubjectValidation.validate(message.subject)
        await waitForWindow()
        var message = message
        if let messageID = message.messageID { message.headers = JetStream.addingMessageID(messageID, to: message.headers) }
        let now = NIODeadline.now()
        let index = state.withLock { state in
            let index = state.base + state.results.count
            state.results.append(nil)
            state.inFlight[index] = InFlight(message: message, firstSent: now, lastSent: now)
            return index
        }
        send(index: index, message: message)
    }

    package func publish(subject: String, payload: ByteBuffer, headers: NATSHeaders? = nil, messageID: String? = nil) async throws {
        try await publish(JetStreamOutgoingMessage(subject: subject, payload: payload, headers: headers, messageID: messageID))
    }

    /// Waits until every publish so far is acknowledged (or failed) and returns their outcomes in
    /// publish order, starting after the previous call's.
    package func waitForAcks() async -> [Result<PubAck, any Error>] {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.inFlight.isEmpty { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { state in
            let results = state.results.map { $0 ?? .failure(JetStreamError.publishTimedOut) }
            state.base += state.results.count
            state.results = []
            return results
        }
    }

    private func waitForWindow() async {
        if state.withLock({ $0.inFlight.count < window }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state in
                if state.inFlight.count < window { return true }
                state.windowWaiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    /// Sends (or re-sends) publish `index` with a fresh reply token.
    private func send(index: Int, message: JetStreamOutgoingMessage) {
        let token: Int
        do {
            token = try client.registerReplyHandler(
                ReplyHandler(
                    persistent: false,
                    deliver: { [weak self] reply in self?.replyArrived(index: index, reply) },
                    fail: { [weak self] error in self?.complete(index: index, .failure(error)) }
                )
            )
        } catch {
            complete(index: index, .failure(error))
            return
        }
        state.withLock { state in
            state.inFlight[index]?.token = token
            state.inFlight[index]?.lastSent = .now()
        }
        do {
            try client.enqueuePublish(
                subject: message.subject, reply: .inbox(prefix: client.inboxPrefix, token: token), headers: message.headers, payload: message.payload
            )
        } catch {
            client.removeReplyHandler(token: token)
            complete(index: index, .failure(error))
        }
    }

    private func replyArrived(index: Int, _ reply: NATSMessage) {
        if reply.status == 503 {
            // No responders: nothing was stored; try again shortly, within the overall deadline.
            guard let entry = state.withLock({ $0.inFlight[index] }) else { return }
            let pause = JetStream.retryPause(attempt: 2)
            guard NIODeadline.now() + pause.timeAmount < entry.firstSent + totalTimeout.timeAmount else {
                complete(index: index, .failure(NATSError.noResponders(subject: entry.message.subject)))
                return
            }
            client.eventLoop.scheduleTask(in: pause.timeAmount) { [weak self] in
                guard let self, let entry = self.state.withLock({ $0.inFlight[index] }) else { return }
                self.send(index: index, message: entry.message)
            }
            return
        }
        complete(index: index, Result { try PubAck.parse(reply.payload) })
    }

    private func complete(index: Int, _ result: Result<PubAck, any Error>) {
        let (windowWaiters, drainWaiters) = state.withLock { state -> ([CheckedContinuation<Void, Never>], [CheckedContinuation<Void, Never>]) in
            guard state.inFlight.removeValue(forKey: index) != nil else { return ([], []) }
            let slot = index - state.base
            if state.results.indices.contains(slot) { state.results[slot] = result }
            var windowWaiters: [CheckedContinuation<Void, Never>] = []
            if state.inFlight.count <= reopenAt || state.inFlight.isEmpty {
                windowWaiters = state.windowWaiters
                state.windowWaiters = []
            }
            var drainWaiters: [CheckedContinuation<Void, Never>] = []
            if state.inFlight.isEmpty {
                drainWaiters = state.drainWaiters
                state.drainWaiters = []
            }
            return (windowWaiters, drainWaiters)
        }
        for waiter in windowWaiters { waiter.resume() }
        for waiter in drainWaiters { waiter.resume() }
    }

    /// Runs on the event loop every fraction of `ackTimeout`.
    private func retryOrFailOverdue() {
        let now = NIODeadline.now()
        let ackTimeout = self.ackTimeout.timeAmount
        let totalTimeout = self.totalTimeout.timeAmount
        let overdue = state.withLock { state in
            state.inFlight.filter { now - $0.value.lastSent > ackTimeout }
        }
        for (index, entry) in overdue {
            client.removeReplyHandler(token: entry.token)
            if entry.message.messageID != nil, now + ackTimeout < entry.firstSent + totalTimeout {
                send(index: index, message: entry.message)
            } else {
                complete(index: index, .failure(JetStreamError.publishTimedOut))
            }
        }
    }
}

/// Some publishes of a batch failed; `results` has every outcome, in order.
package struct JetStreamBatchPublishError: Error, CustomStringConvertible {
    package var results: [Result<PubAck, any Error>]

    package var failures: [(index: Int, error: any Error)] {
        results.enumerated().compactMap { index, result in
            if case .failure(let error) = result { return (index, error) }
            return nil
        }
    }

    package var description: String {
        let failures = self.failures
        return "\(failures.count) of \(results.count) JetStream publishes failed; first: \(failures.first.map { "\($0.error)" } ?? "-")"
    }
}

extension JetStream {
    /// Publishes `messages` with up to `window` acks outstanding; returns their acks in order, or
    /// throws `JetStreamBatchPublishError` (with every outcome) when any failed.
    package func publishBatch(_ messages: [JetStreamOutgoingMessage], window: Int = 1024, ackTimeout: Duration = .seconds(5)) async throws -> [PubAck] {
        let publisher = JetStreamPublisher(jetStream: self, window: window, ackTimeout: ackTimeout)
        for message in messages { try await publisher.publish(message) }
        let results = await publisher.waitForAcks()
        var acks: [PubAck] = []
        acks.reserveCapacity(results.count)
        for result in results {
            guard case .success(let ack) = result else { throw JetStreamBatchPublishError(results: results) }
            acks.append(ack)
        }
        return acks
    }
}
