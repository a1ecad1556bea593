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
        Iterator(puller: puller)
    }

    /// Takes everything that has arrived at once and hands it out from a local array: one
    /// lock, and at most one suspension, per batch rather than per message.
    package struct Iterator: AsyncIteratorProtocol {
        fileprivate let puller: ContinuousPull
        private var batch: [JetStreamMessage] = []
        private var position = 0

        fileprivate init(puller: ContinuousPull) {
            self.puller = puller
        }

        package mutating func next() async throws -> JetStreamMessage? {
            if position == batch.count {
                try await puller.take(into: &batch)
                position = 0
                if batch.isEmpty { return nil }
            }
            defer { position += 1 }
            return batch[position]
        }
    }
}

/// Keeps about one batch of messages requested or waiting to be read: each arriving message
/// moves one from "requested" to "ready", the reader takes all ready ones at once, and a new
/// request tops the sum up to a batch whenever it falls to half.
///
/// Messages arrive on the event loop and are appended under a lock; a reader that found
/// nothing waits on a continuation, resumed by the next arrival or the end.
private final class ContinuousPull: Sendable {
    let client: NATSClient
    let requestSubject: String
    let inbox: String
    let batch: Int
    let expires: Duration
    let idleHeartbeat: Duration
    private let state = Mutex(State())

    private struct State: Sendable {
        /// Messages requested by open pull requests and not yet arrived.
        var requested = 0
        /// Messages arrived and not yet taken by the reader.
        var ready: [JetStreamMessage] = []
        /// The reader, waiting for `ready` to fill or the sequence to end.
        var reader: CheckedContinuation<Void, Never>?
        var lastActivity = NIODeadline.now()
        var sid: Int?
        var watchdog: RepeatedTask?
        var finished = false
        /// Why the sequence ended, thrown to the reader once `ready` is empty.
        var failure: (any Error)?

        mutating func takeReader() -> CheckedContinuation<Void, Never>? {
            defer { reader = nil }
            return reader
        }
    }

    init(client: NATSClient, requestSubject: String, batch: Int, expires: Duration, idleHeartbeat: Duration) {
        self.client = client
        self.requestSubject = requestSubject
        self.inbox = client.newInbox()
        self.batch = batch
        self.expires = expires
        self.idleHeartbeat = idleHeartbeat
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
        pullIfNeeded()
    }

    /// Replaces `batch` (already handed out) with every message that arrived, waiting for one
    /// if none has; leaves it empty once the sequence ended. Cancelling the reader ends the
    /// sequence, as a reader that stops reading does.
    func take(into batch: inout [JetStreamMessage]) async throws {
        batch.removeAll(keepingCapacity: true)
        while true {
            let outcome = state.withLock { state -> Result<Bool, any Error> in
                if !state.ready.isEmpty {
                    swap(&state.ready, &batch)
                    return .success(true)
                }
                guard state.finished else { return .success(false) }
                defer { state.failure = nil }
                return state.failure.map { .failure($0) } ?? .success(true)
            }
            if try outcome.get() {
                // Taking messages makes room for more.
                pullIfNeeded()
                return
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let wait = state.withLock { state in
                        guard state.ready.isEmpty, !state.finished else { return false }
                        state.reader = continuation
                        return true
                    }
                    if !wait { continuation.resume() }
                }
            } onCancel: {
                finish(throwing: nil)
            }
        }
    }

    /// Sends a pull request when fewer than half a batch are requested or waiting to be read.
    func pullIfNeeded() {
        let count = state.withLock { state -> Int? in
            let outstanding = state.requested + state.ready.count
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
        let now = NIODeadline.now()
        let status = PullStatus(message)
        guard case .message = status else {
            state.withLock { $0.lastActivity = now }
            handleStatus(status)
            return
        }
        let jetStreamMessage = JetStreamMessage(message: message, client: client, replyFromServer: true)
        let reader = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.lastActivity = now
            guard !state.finished else { return nil }
            state.requested = max(0, state.requested - 1)
            state.ready.append(jetStreamMessage)
            return state.takeReader()
        }
        reader?.resume()
    }

    private func handleStatus(_ status: PullStatus) {
        switch status {
        case .message, .heartbeat:
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

    /// Ends the sequence: the reader gets what already arrived, then `error` (or the end).
    func finish(throwing error: (any Error)?) {
        let resources = state.withLock { state -> (sid: Int?, watchdog: RepeatedTask?, reader: CheckedContinuation<Void, Never>?)? in
            guard !state.finished else { return nil }
            state.finished = true
            state.failure = error
            defer {
                state.sid = nil
                state.watchdog = nil
            }
            return (state.sid, state.watchdog, state.takeReader())
        }
        // Ending the subscription calls back here: that (second) call must not finish the
        // sequence again, without the error.
        guard let (sid, watchdog, reader) = resources else { return }
        watchdog?.cancel()
        if let sid { client.removeSubscription(sid: sid) }
        reader?.resume()
    }
}
