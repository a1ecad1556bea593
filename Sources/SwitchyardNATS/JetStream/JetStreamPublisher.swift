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
///
/// Publish `i` asks for its ack on `<replyPrefix><i>`, which one wildcard subscription of the
/// publisher receives: nothing is registered per message, and an ack finds its publish by
/// index in an array. Publish and wait for acks from one task.
package final class JetStreamPublisher: Sendable {
    private let client: NATSClient
    private let window: Int
    /// The window reopens for waiting publishers only once it has drained to here, so a full
    /// window does not wake the publisher for every single ack.
    private let reopenAt: Int
    private let ackTimeout: Duration
    private let totalTimeout: Duration
    /// `_INBOX.<random>.`, this publisher's own.
    private let replyPrefix: String
    private let state = Mutex(State())

    private struct InFlight: Sendable {
        var message: JetStreamOutgoingMessage
        var firstSent: NIODeadline
        var lastSent: NIODeadline
    }

    private enum Slot: Sendable {
        case pending(InFlight)
        case done(Result<PubAck, any Error>)
    }

    private struct State: Sendable {
        /// The publishes since the last `waitForAcks()`: `slots[i]` is publish `base + i`.
        var slots: [Slot] = []
        var base = 0
        /// Every slot before this one is done (where the search for overdue acks starts).
        var firstPending = 0
        var pendingCount = 0
        var sid: Int?
        var windowWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        var sweeper: RepeatedTask?

        /// Takes a slot for `message` unless the window is full.
        mutating func admit(_ message: JetStreamOutgoingMessage, now: NIODeadline, window: Int) -> Int? {
            guard pendingCount < window else { return nil }
            slots.append(.pending(InFlight(message: message, firstSent: now, lastSent: now)))
            pendingCount += 1
            return base + slots.count - 1
        }

        /// The in-flight entry of publish `index`, if it still waits for its ack.
        func pending(_ index: Int) -> InFlight? {
            let slot = index - base
            guard slots.indices.contains(slot), case .pending(let entry) = slots[slot] else { return nil }
            return entry
        }

        /// Records the outcome of publish `index`; false when it was not pending (a late or
        /// repeated answer).
        mutating func settle(_ index: Int, _ result: Result<PubAck, any Error>) -> Bool {
            let slot = index - base
            guard slots.indices.contains(slot), case .pending = slots[slot] else { return false }
            slots[slot] = .done(result)
            pendingCount -= 1
            if slot == firstPending { advanceFirstPending() }
            return true
        }

        mutating func advanceFirstPending() {
            while firstPending < slots.count, case .done = slots[firstPending] { firstPending += 1 }
        }

        /// The waiters to wake after completions: the publisher once the window drained to
        /// `reopenAt`, `waitForAcks()` once nothing is pending.
        mutating func takeWaiters(reopenAt: Int) -> [CheckedContinuation<Void, Never>] {
            var waiters: [CheckedContinuation<Void, Never>] = []
            if pendingCount <= reopenAt || pendingCount == 0, !windowWaiters.isEmpty {
                waiters = windowWaiters
                windowWaiters = []
            }
            if pendingCount == 0, !drainWaiters.isEmpty {
                waiters += drainWaiters
                drainWaiters = []
            }
            return waiters
        }
    }

    package init(jetStream: JetStream, window: Int = 4000, ackTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30)) {
        self.client = jetStream.client
        self.window = max(1, window)
        self.reopenAt = max(0, self.window - max(1, self.window / 8))
        self.ackTimeout = ackTimeout
        self.totalTimeout = totalTimeout
        self.replyPrefix = client.newInbox() + "."
        // Fails only when the client is closed, and then every publish fails as it is sent.
        let sid = try? client.addSubscription(
            subject: replyPrefix + "*", queue: nil,
            deliver: { [weak self] reply in self?.replyArrived(reply) },
            finish: { [weak self] in self?.failAllPending(NATSError.connectionClosed) }
        )
        let interval = TimeAmount.milliseconds(max(20, min(250, ackTimeout.nanoseconds / 4_000_000)))
        let sweeper = client.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
            guard let self else { return task.cancel() }
            self.retryOrFailOverdue()
        }
        state.withLock { state in
            state.sid = sid
            state.sweeper = sweeper
        }
    }

    deinit {
        let (sid, sweeper) = state.withLock { ($0.sid, $0.sweeper) }
        sweeper?.cancel()
        if let sid { client.removeSubscription(sid: sid) }
    }

    /// Acks still outstanding.
    package var pendingCount: Int { state.withLock { $0.pendingCount } }

    /// Queues one message, first waiting while `window` publishes are unacknowledged.
    /// Throws only for what can never succeed (an invalid subject); everything else is reported
    /// by `waitForAcks()`.
    package func publish(_ message: JetStreamOutgoingMessage) async throws {
        try NATSSubjectValidation.validate(message.subject)
        var message = message
        if let messageID = message.messageID { message.headers = JetStream.addingMessageID(messageID, to: message.headers) }
        let index = await admit(message)
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
                if state.pendingCount == 0 { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { state in
            // Everything before `firstPending` is done; anything after it was published since
            // the wait ended and is reported next time.
            let count = state.firstPending
            var results: [Result<PubAck, any Error>] = []
            results.reserveCapacity(count)
            for case .done(let result) in state.slots[..<count] { results.append(result) }
            state.slots.removeFirst(count)
            state.base += count
            state.firstPending = 0
            return results
        }
    }

    /// A slot for `message`, once the window has room.
    private func admit(_ message: JetStreamOutgoingMessage) async -> Int {
        while true {
            let now = NIODeadline.now()
            if let index = state.withLock({ $0.admit(message, now: now, window: window) }) { return index }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let open = state.withLock { state in
                    if state.pendingCount < window { return true }
                    state.windowWaiters.append(continuation)
                    return false
                }
                if open { continuation.resume() }
            }
        }
    }

    /// Sends (or re-sends) publish `index`.
    private func send(index: Int, message: JetStreamOutgoingMessage) {
        do {
            try client.enqueuePublish(
                subject: message.subject, reply: .inbox(prefix: replyPrefix, token: index), headers: message.headers, payload: message.payload
            )
        } catch {
            complete(index: index, .failure(error))
        }
    }

    /// Re-sends publish `index` if it is still waiting for its ack.
    private func resend(index: Int) {
        let now = NIODeadline.now()
        let message = state.withLock { state -> JetStreamOutgoingMessage? in
            guard var entry = state.pending(index) else { return nil }
            entry.lastSent = now
            state.slots[index - state.base] = .pending(entry)
            return entry.message
        }
        if let message { send(index: index, message: message) }
    }

    /// An answer on the reply subscription (on the event loop). An ack for an earlier attempt
    /// of a re-sent publish counts as well: the message was stored.
    private func replyArrived(_ reply: NATSMessage) {
        guard let index = publishIndex(of: reply.subject) else { return }
        if reply.status == 503 {
            retryAfterNoResponders(index: index)
            return
        }
        complete(index: index, Result { try PubAck.parse(reply.payload) })
    }

    /// The `<i>` of `<replyPrefix><i>` (the subscription delivers nothing else).
    private func publishIndex(of subject: String) -> Int? {
        let prefixLength = replyPrefix.utf8.count
        let utf8 = subject.utf8
        if let index = utf8.withContiguousStorageIfAvailable({ bytes in
            bytes.count > prefixLength ? parseDecimal(UnsafeBufferPointer(rebasing: bytes[prefixLength...])) : nil
        }) {
            return index
        }
        return parseDecimal(utf8.dropFirst(prefixLength))
    }

    /// No responders: nothing was stored; try again shortly, within the overall deadline.
    private func retryAfterNoResponders(index: Int) {
        guard let entry = state.withLock({ $0.pending(index) }) else { return }
        let pause = JetStream.retryPause(attempt: 2).timeAmount
        guard NIODeadline.now() + pause < entry.firstSent + totalTimeout.timeAmount else {
            complete(index: index, .failure(NATSError.noResponders(subject: entry.message.subject)))
            return
        }
        client.eventLoop.scheduleTask(in: pause) { [weak self] in self?.resend(index: index) }
    }

    private func complete(index: Int, _ result: Result<PubAck, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.settle(index, result) else { return [] }
            return state.takeWaiters(reopenAt: reopenAt)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The reply subscription ended (the client closed): no ack can arrive any more.
    private func failAllPending(_ error: any Error) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            for slot in state.firstPending..<state.slots.count {
                if case .pending = state.slots[slot] { state.slots[slot] = .done(.failure(error)) }
            }
            state.pendingCount = 0
            state.firstPending = state.slots.count
            return state.takeWaiters(reopenAt: reopenAt)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs on the event loop every fraction of `ackTimeout`.
    private func retryOrFailOverdue() {
        let now = NIODeadline.now()
        let ackTimeout = self.ackTimeout.timeAmount
        let totalTimeout = self.totalTimeout.timeAmount
        let overdue = state.withLock { state -> [(index: Int, entry: InFlight)] in
            var overdue: [(index: Int, entry: InFlight)] = []
            for slot in state.firstPending..<state.slots.count {
                if case .pending(let entry) = state.slots[slot], now - entry.lastSent > ackTimeout { overdue.append((state.base + slot, entry)) }
            }
            return overdue
        }
        for (index, entry) in overdue {
            if entry.message.messageID != nil, now + ackTimeout < entry.firstSent + totalTimeout {
                resend(index: index)
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
