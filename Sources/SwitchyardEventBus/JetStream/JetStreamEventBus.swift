import Foundation
package import Logging
import ServiceLifecycle
import NIOCore
package import SwitchyardNATS
import Synchronization

/// The distributed engine: the bus on a NATS JetStream server or cluster. The layout (streams,
/// partition subjects, one durable consumer per group, topic and partition) is
/// `JetStreamLayout`'s; this type applies the bus's rules on top of it:
///
/// - Publishing stores every event with `Nats-Msg-Id` = its id, so the server drops a second
///   copy within the duplicate window (a relay publishing again after a crash). Events go out
///   windowed on one connection, so one partition keeps their order. "All or none" is weaker
///   than on the embedded log: a failure part-way leaves the first events stored; publishing
///   the batch again (as the outbox relay does) completes it without duplicates.
/// - Consuming pulls every partition of every topic, handles each delivery, and acks it. A
///   failure is NAKed with the backoff as delay (the partition waits: order per subject), and
///   after `maxAttempts` deliveries (the delivery count comes from the ack subject) or an
///   unretryable error the event is published to its dead-letter topic and terminated.
/// - `ackTimeout` is the consumers' AckWait: a consumer that dies holding an event loses it
///   then, and another instance gets it as the next attempt.
/// - A replay publishes the original again, marked for the group that gave up on it (other
///   groups ack and skip it), and deletes the dead letter.
package final class JetStreamEventBus: EventBus {
    package struct Settings: Sendable {
        package var layout: JetStreamLayout
        /// Copies of each stream in a cluster (1 on a single server; 3 for an R3 cluster).
        package var replicas: Int
        /// How long events are kept (the streams' MaxAge).
        package var retention: Duration
        /// How long the server remembers message ids to drop duplicates.
        package var duplicateWindow: Duration
        /// How long one pull request waits for events before it is renewed.
        package var pullExpiry: Duration

        package init(
            layout: JetStreamLayout = JetStreamLayout(),
            replicas: Int = 1,
            retention: Duration = .seconds(7 * 24 * 3600),
            duplicateWindow: Duration = .seconds(600),
            pullExpiry: Duration = .seconds(5)
        ) {
            self.layout = layout
            self.replicas = max(1, replicas)
            self.retention = retention
            self.duplicateWindow = duplicateWindow
            self.pullExpiry = pullExpiry
        }
    }

    /// The header that marks a replayed event for the one group that should take it.
    static let replayGroupHeader = "switchyard-replay-group"

    package let client: NATSClient
    private let jetStream: JetStream
    private let settings: Settings
    private let logger: Logger
    /// Streams known to exist (created or updated by this process), so publishing checks once.
    private let readyStreams = Mutex<Set<String>>([])

    package init(client: NATSClient, settings: Settings = Settings(), logger: Logger) {
        self.client = client
        self.jetStream = JetStream(client: client)
        self.settings = settings
        self.logger = logger
    }

    private var layout: JetStreamLayout { settings.layout }

    // MARK: Streams

    /// Creates (or updates) the stream of `topic` unless this process did already.
    private func ensureStream(topic: String) async throws -> String {
        let name = layout.streamName(topic: topic)
        if readyStreams.withLock({ $0.contains(name) }) { return name }
        let config = StreamConfig(
            name: name, subjects: layout.streamSubjects(topic: topic), replicas: settings.replicas,
            maxAge: settings.retention, duplicateWindow: settings.duplicateWindow,
            description: "Switchyard events (\(layout.streamSubjects(topic: topic).joined(separator: ", ")))"
        )
        _ = try await jetStream.createOrUpdateStream(config)
        readyStreams.withLock { _ = $0.insert(name) }
        return name
    }

    // MARK: Publishing

    package func publish(_ events: [EventEnvelope]) async throws {
        guard !events.isEmpty else { return }
        for topic in Set(events.map(\.topic)) { _ = try await ensureStream(topic: topic) }
        _ = try await jetStream.publishBatch(
            events.map { event in
                JetStreamOutgoingMessage(
                    subject: layout.subject(for: event), payload: ByteBuffer(bytes: event.payload),
                    headers: NATSHeaders(eventHeaders: event.headers), messageID: event.id
                )
            },
            window: 512
        )
    }

    // MARK: Consuming

    package func consume(group: String, topics: [String], options: ConsumerOptions, handler: @escaping EventHandler) async throws {
        let topics = Array(Set(topics)).sorted()
        guard !topics.isEmpty else { return }
        try await withThrowingDiscardingTaskGroup { taskGroup in
            for topic in topics {
                for partition in 0..<layout.partitions {
                    taskGroup.addTask {
                        try await self.consumePartition(topic: topic, partition: partition, group: group, options: options, handler: handler)
                    }
                }
            }
        }
    }

    package var messagingSystem: String { "nats" }

    /// The sum over the topic's partitions of what each of the group's consumers has not yet
    /// received (`num_pending`) or not yet acknowledged (`num_ack_pending`). A partition whose
    /// consumer does not exist yet counts nothing: the server cannot say without one, and one
    /// appears as soon as the group runs.
    package func lag(group: String, topic: String) async throws -> Int {
        let stream = layout.streamName(topic: topic)
        var total = 0
        for partition in 0..<layout.partitions {
            let name = layout.durableName(group: group, topic: topic, partition: partition)
            guard let info = try await jetStream.consumerInfo(stream: stream, consumer: name) else { continue }
            total += Int(clamping: info.numPending) + info.numAckPending
        }
        return total
    }

    /// Sets up one partition's consumer, then pulls it until the group stops.
    private func consumePartition(topic: String, partition: Int, group: String, options: ConsumerOptions, handler: @escaping EventHandler) async throws {
        guard
            let consumer = try await untilJetStreamAnswers({
                ConsumerPartition(
                    stream: try await self.ensureStream(topic: topic), topic: topic, partition: partition,
                    name: self.layout.durableName(group: group, topic: topic, partition: partition)
                )
            }),
            try await untilJetStreamAnswers({ try await self.ensureConsumer(consumer, group: group, options: options) }) != nil
        else { return }
        try await consumePartition(consumer, group: group, options: options, handler: handler)
    }

    /// Runs `step` until it succeeds; `nil` when the group stops first. A cluster without a
    /// JetStream leader (just started, or electing one after a node died) times requests out
    /// for a few seconds; a service that starts then must wait it out, not exit.
    private func untilJetStreamAnswers<T: Sendable>(_ step: @Sendable () async throws -> T) async throws -> T? {
        var pause = Duration.milliseconds(100)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                return try await step()
            } catch {
                logger.warning("JetStream not ready; trying again", metadata: ["switchyard.error": "\(error)"])
                do { try await Task.sleep(for: pause) } catch { return nil }
                pause = min(pause * 2, .seconds(2))
            }
        }
        return nil
    }

    /// One durable consumer: a group's share of one topic partition.
    private struct ConsumerPartition: Sendable {
        var stream: String
        var topic: String
        var partition: Int
        var name: String
    }

    /// Creates the durable consumer, or updates it to `options` (the same config is a no-op).
    private func ensureConsumer(_ consumer: ConsumerPartition, group: String, options: ConsumerOptions) async throws {
        let config = ConsumerConfig(
            durableName: consumer.name, deliverPolicy: .all, ackPolicy: .explicit, ackWait: options.ackTimeout,
            // Dead-lettering is ours (it needs the handler's error), so the server never gives up.
            maxDeliver: -1,
            filterSubject: layout.subject(topic: consumer.topic, partition: consumer.partition),
            // One delivery at a time per partition: a subject's next event waits for this one.
            maxAckPending: 1,
            description: "Switchyard consumer group \(group), \(consumer.topic) partition \(consumer.partition)"
        )
        _ = try await jetStream.createOrUpdateConsumer(stream: consumer.stream, config)
    }

    /// Pulls one partition, one delivery per pull request, and handles each as it arrives.
    /// One at a time because the consumer allows one in flight anyway, and because a pull left
    /// waiting while a handler runs would outlive this instance if it stops: servers before
    /// 2.10 keep delivering to such a pull, and each delivery it swallows costs an attempt and
    /// an AckWait. Graceful shutdown stops pulling; the delivery in hand is finished and acked.
    private func consumePartition(_ consumer: ConsumerPartition, group: String, options: ConsumerOptions, handler: @escaping EventHandler) async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully && !client.isClosed {
            let messages: [JetStreamMessage]
            do {
                messages = try await cancelWhenGracefulShutdown {
                    try await self.jetStream.fetch(
                        stream: consumer.stream, consumer: consumer.name, batch: 1,
                        // Heartbeats well inside the expiry: two missed end the pull early (a
                        // leader moved, a connection died) and it is renewed.
                        expires: self.settings.pullExpiry, idleHeartbeat: self.settings.pullExpiry / 4
                    )
                }
            } catch is CancellationError {
                return
            } catch JetStreamError.consumerDeleted {
                logger.warning("consumer deleted; creating it again", metadata: ["switchyard.consumer": "\(consumer.name)"])
                try? await ensureConsumer(consumer, group: group, options: options)
                continue
            } catch {
                // The server is away (reconnecting, a leader moving): pull again shortly.
                logger.debug("pull failed; pulling again", metadata: ["switchyard.consumer": "\(consumer.name)", "switchyard.error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            for message in messages {
                await deliver(message, topic: consumer.topic, group: group, options: options, handler: handler)
            }
        }
    }

    /// Hands one delivery to the handler and settles it: ack, NAK with backoff, or dead letter.
    private func deliver(_ message: JetStreamMessage, topic: String, group: String, options: ConsumerOptions, handler: EventHandler) async {
        let attempt = message.metadata?.delivered ?? 1
        let headers = message.headers?.eventHeaders ?? [:]
        if let replayGroup = headers[Self.replayGroupHeader], replayGroup != group {
            // A replay for another group.
            await settle(message) { try $0.ack() }
            return
        }
        let envelope: EventEnvelope
        do {
            var eventHeaders = headers
            eventHeaders[Self.replayGroupHeader] = nil
            envelope = try EventEnvelope(headers: eventHeaders, payload: Array(message.payload.readableBytesView))
        } catch {
            // Not a CloudEvent (someone published to our subjects by hand): nothing can handle
            // it, so it is dead-lettered under a made-up id and the partition moves on.
            let sequence = message.metadata?.streamSequence ?? 0
            let standIn = EventEnvelope(
                id: "\(topic)-\(sequence)", type: topic, source: "unknown", payload: Array(message.payload.readableBytesView), extensions: headers
            )
            await deadLetter(DeliveredEvent(envelope: standIn, attempt: attempt), message: message, group: group, reason: "not a CloudEvent: \(error)")
            return
        }
        let delivered = DeliveredEvent(envelope: envelope, attempt: attempt)
        do {
            try await handler(delivered)
            await settle(message) { try $0.ack() }
        } catch {
            if Task.isCancelled {
                // Abandoned, not failed: let another instance have it now.
                await settle(message) { try $0.nak(delay: nil) }
                return
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            switch DeliveryPlanning.afterFailure(attempt: attempt, error: error, options: options, nowMilliseconds: now) {
            case .retry(_, let notBefore):
                await settle(message) { try $0.nak(delay: .milliseconds(max(1, notBefore - now))) }
            case .inFlight, .done, nil:
                await deadLetter(delivered, message: message, group: group, reason: "\(error)")
            }
        }
    }

    /// Publishes the dead letter, then terminates the delivery. If publishing fails the
    /// delivery is NAKed instead, so the event is not lost: it comes again and dead-letters then.
    private func deadLetter(_ delivered: DeliveredEvent, message: JetStreamMessage, group: String, reason: String) async {
        let letter = DeadLetterTopic.envelope(for: delivered, group: group, reason: reason)
        do {
            _ = try await ensureStream(topic: letter.topic)
            // The id of the failed delivery's sequence makes a second dead-lettering of the
            // same event (after a replay) a new message, not a duplicate.
            let messageID = "\(letter.id)@\(message.metadata?.streamSequence ?? 0)"
            _ = try await jetStream.publish(subject: layout.subject(for: letter), payload: letter.payload, headers: NATSHeaders(eventHeaders: letter.headers), messageID: messageID)
            // A plain +TERM: servers before 2.10 ignore one that carries a reason.
            await settle(message) { try $0.term() }
        } catch {
            logger.warning("could not dead-letter; the event will come again", metadata: ["switchyard.event.id": "\(delivered.envelope.id)", "switchyard.error": "\(error)"])
            await settle(message) { try $0.nak(delay: .seconds(1)) }
        }
    }

    /// An ack that fails (connection lost) is logged: the server delivers the event again
    /// after AckWait, and the inbox makes that harmless.
    private func settle(_ message: JetStreamMessage, _ action: (JetStreamMessage) throws -> Void) async {
        do {
            try action(message)
        } catch {
            logger.debug("acknowledgement failed", metadata: ["switchyard.error": "\(error)"])
        }
    }

    // MARK: Dead letters

    package func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await storedDeadLetters(limit: limit).map(\.letter)
    }

    package func replay(deadLetterID: String) async throws -> Bool {
        guard let stored = try await storedDeadLetters(limit: .max).first(where: { $0.letter.id == deadLetterID }) else { return false }
        let original = stored.letter.original
        var headers = original.headers
        headers[Self.replayGroupHeader] = stored.letter.group
        _ = try await ensureStream(topic: original.topic)
        _ = try await jetStream.publish(
            subject: layout.subject(for: original), payload: original.payload, headers: NATSHeaders(eventHeaders: headers),
            messageID: "\(deadLetterID).replay@\(stored.sequence)"
        )
        do {
            try await jetStream.deleteMessage(stream: layout.deadLetterStreamName, sequence: stored.sequence)
        } catch let error as JetStreamAPIError where error.code == 404 {
            return false  // another replay of the same letter got there first
        }
        return true
    }

    /// The dead-letter stream, read message by message from the start: dead letters are few,
    /// and reading them this way needs no consumer.
    private func storedDeadLetters(limit: Int) async throws -> [(letter: DeadLetter, sequence: UInt64)] {
        let stream = layout.deadLetterStreamName
        guard try await jetStream.streamInfo(stream) != nil else { return [] }
        var letters: [(DeadLetter, UInt64)] = []
        var next: UInt64 = 1
        while letters.count < limit, let stored = try await jetStream.getMessage(stream: stream, nextBySubject: ">", startSequence: next) {
            next = stored.sequence + 1
            if let letter = Self.deadLetter(headers: stored.headers?.eventHeaders ?? [:], payload: Array(stored.payload.readableBytesView)) {
                letters.append((letter, stored.sequence))
            }
        }
        return letters
    }

    private static func deadLetter(headers: [String: String], payload: [UInt8]) -> DeadLetter? {
        guard let letter = try? EventEnvelope(headers: headers, payload: payload) else { return nil }
        var originalHeaders: [String: String] = [:]
        for (name, value) in letter.extensions where name.hasPrefix(DeadLetterTopic.originalHeaderPrefix) {
            originalHeaders[String(name.dropFirst(DeadLetterTopic.originalHeaderPrefix.count))] = value
        }
        guard let original = try? EventEnvelope(headers: originalHeaders, payload: payload) else { return nil }
        return DeadLetter(
            id: letter.id,
            group: letter.extensions[DeadLetterTopic.groupKey] ?? "",
            attempts: Int(letter.extensions[DeadLetterTopic.attemptsKey] ?? "") ?? 0,
            reason: letter.extensions[DeadLetterTopic.reasonKey] ?? "",
            original: original
        )
    }

    // MARK: Observing

    package func observe(topics: [String], fromStart: Bool) -> AsyncThrowingStream<EventEnvelope, any Error> {
        let observer = JetStreamObserver(bus: self, topics: Array(Set(topics)).sorted(), fromStart: fromStart)
        return AsyncThrowingStream(unfolding: { try await observer.next() })
    }

    /// The stream and partition wildcard of `topic`, the stream created if need be.
    func observationTarget(topic: String) async throws -> (stream: String, subject: String, lastSequence: UInt64) {
        let stream = try await ensureStream(topic: topic)
        let last = try await jetStream.streamInfo(stream)?.state.lastSequence ?? 0
        return (stream, layout.subjectWildcard(topic: topic), last)
    }

    /// The next stored message on `subject` at or after `sequence`, if any.
    func storedMessage(stream: String, subject: String, from sequence: UInt64) async throws -> StoredMessage? {
        try await jetStream.getMessage(stream: stream, nextBySubject: subject, startSequence: sequence)
    }
}

/// Reads topics for `EventBus.observe` without a consumer: message by message with direct gets
/// from a cursor per topic, pausing briefly whenever every topic is read to its end. Replays
/// (copies of old events) are skipped: an observer sees each event once.
final class JetStreamObserver: Sendable {
    private struct Cursor: Sendable {
        var stream: String
        var subject: String
        var next: UInt64
    }

    private let bus: JetStreamEventBus
    private let topics: [String]
    private let fromStart: Bool
    private let state = Mutex<(cursors: [Cursor]?, buffer: [EventEnvelope])>((nil, []))

    init(bus: JetStreamEventBus, topics: [String], fromStart: Bool) {
        self.bus = bus
        self.topics = topics
        self.fromStart = fromStart
    }

    func next() async throws -> EventEnvelope? {
        while true {
            try Task.checkCancellation()
            if let buffered = state.withLock({ $0.buffer.isEmpty ? nil : $0.buffer.removeFirst() }) { return buffered }
            var cursors = try await currentCursors()
            var found: [EventEnvelope] = []
            for index in cursors.indices {
                while found.count < 256,
                    let stored = try await bus.storedMessage(stream: cursors[index].stream, subject: cursors[index].subject, from: cursors[index].next)
                {
                    cursors[index].next = stored.sequence + 1
                    let headers = stored.headers?.eventHeaders ?? [:]
                    guard headers[JetStreamEventBus.replayGroupHeader] == nil,
                        let envelope = try? EventEnvelope(headers: headers, payload: Array(stored.payload.readableBytesView))
                    else { continue }
                    found.append(envelope)
                }
            }
            state.withLock { state in
                state.cursors = cursors
                state.buffer += found
            }
            if found.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
    }

    private func currentCursors() async throws -> [Cursor] {
        if let cursors = state.withLock({ $0.cursors }) { return cursors }
        var cursors: [Cursor] = []
        for topic in topics {
            let target = try await bus.observationTarget(topic: topic)
            cursors.append(Cursor(stream: target.stream, subject: target.subject, next: fromStart ? 1 : target.lastSequence + 1))
        }
        state.withLock { $0.cursors = cursors }
        return cursors
    }
}

extension NATSHeaders {
    /// An event's headers as NATS headers, in a stable order.
    init(eventHeaders: [String: String]) {
        self.init(eventHeaders.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// The headers as the event envelope reads them (the first value of each name), without
    /// NATS's own (`Nats-Msg-Id` and the rest of the reserved `Nats-` prefix): those belong to
    /// the transport, and a consumer reading the event's extensions must not see them.
    var eventHeaders: [String: String] {
        var headers: [String: String] = [:]
        for field in fields where headers[field.name] == nil && !Self.isReserved(field.name) { headers[field.name] = field.value }
        return headers
    }

    /// Whether `name` starts with `Nats-` in any case; compared by bytes, since it runs for
    /// every header of every delivered message.
    static func isReserved(_ name: String) -> Bool {
        name.utf8.prefix(5).lazy.map { $0 | 0x20 }.elementsEqual("nats-".utf8)
    }
}
