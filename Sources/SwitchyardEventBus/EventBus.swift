/// An event handed to a consumer, with how often it has been delivered to its group.
package struct DeliveredEvent: Sendable, Hashable {
    package var envelope: EventEnvelope
    /// 1 on first delivery; higher after failures or a consumer that died mid-way.
    package var attempt: Int

    package init(envelope: EventEnvelope, attempt: Int) {
        self.envelope = envelope
        self.attempt = attempt
    }
}

/// How a consumer group takes its events.
package struct ConsumerOptions: Sendable, Hashable {
    /// Deliveries before an event goes to `<topic>.dead-letter` with the last error.
    package var maxAttempts: Int
    /// The wait before the second delivery; it doubles each time (with jitter) up to `maxBackoff`.
    package var initialBackoff: Duration
    package var maxBackoff: Duration
    /// A delivery not acknowledged within this time (its consumer died) is delivered again.
    package var ackTimeout: Duration
    /// Events claimed at once by one consumer instance.
    package var batchSize: Int

    package init(
        maxAttempts: Int = 5,
        initialBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(10),
        ackTimeout: Duration = .seconds(30),
        batchSize: Int = 128
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.ackTimeout = ackTimeout
        self.batchSize = max(1, batchSize)
    }

    /// The wait before delivery `attempt + 1`: exponential, capped, with full jitter so that
    /// failing consumers do not retry in lockstep.
    package func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(initialBackoff * (1 << exponent), maxBackoff)
        let nanoseconds = max(Int64(1), ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000)
        return .nanoseconds(Int64.random(in: (nanoseconds / 2)...nanoseconds))
    }
}

/// The handler of a consumer group: returning acknowledges the event, throwing asks for it
/// again (with backoff) until `maxAttempts`, after which it is dead-lettered. An error that
/// conforms to `UnretryableEventError` dead-letters at once: retrying cannot help.
package typealias EventHandler = @Sendable (DeliveredEvent) async throws -> Void

/// A handler failure that no retry can cure (an undecodable body, an event the handler can
/// never apply): the event goes straight to the dead-letter topic with this error as reason.
package protocol UnretryableEventError: Error {}

/// An event body its consumer cannot read (malformed JSON, a missing field): no retry can
/// help, so it is dead-lettered at once, with the decoding error as its reason.
package struct UndecodableEvent: UnretryableEventError, CustomStringConvertible {
    package var reason: String
    package var description: String { reason }

    package init(reason: String) {
        self.reason = reason
    }
}

extension DeliveredEvent {
    /// The body read by `decode` (an event contract's `decode`), or `UndecodableEvent`.
    package func decodePayload<Event>(_ decode: ([UInt8]) throws -> Event) throws(UndecodableEvent) -> Event {
        do {
            return try decode(envelope.payload)
        } catch {
            throw UndecodableEvent(reason: "\(error)")
        }
    }
}

/// The bus. Publishing is durable once `publish` returns. Each consumer group receives every
/// event of its topics; the instances of one group share the work; events with the same
/// subject reach a group in the order they were published.
///
/// Engines: `InMemoryEventBus` (tests), `SQLiteEventBus` (the embedded default); the NATS
/// JetStream engine joins later. All pass `EventBusConformance`.
package protocol EventBus: Sendable {
    /// Stores `events`, all or none; an event whose id is already stored is skipped, so a
    /// relay that publishes twice after a crash does no harm.
    func publish(_ events: [EventEnvelope]) async throws

    /// Delivers the events of `topics` to `handler` as one instance of `group`, until the task
    /// is cancelled. Run several with the same group to share its work.
    func consume(group: String, topics: [String], options: ConsumerOptions, handler: @escaping EventHandler) async throws

    /// The events dead-lettered so far, oldest first (at most `limit`).
    func deadLetters(limit: Int) async throws -> [DeadLetter]

    /// Delivers a dead-lettered event again, to the group that gave up on it only.
    /// - Returns: false when there is no such dead letter (or it was replayed already).
    func replay(deadLetterID: String) async throws -> Bool

    /// Every event of `topics` published from now on (or from the start of the retained log),
    /// without joining a consumer group: for `switchyard events tail`. Ends when the task is
    /// cancelled.
    func observe(topics: [String], fromStart: Bool) -> AsyncThrowingStream<EventEnvelope, any Error>

    /// How far `group` is behind on `topic`: events published that it has not yet settled
    /// (acknowledged or dead-lettered), in flight included. A group that never consumed is
    /// behind by everything retained.
    func lag(group: String, topic: String) async throws -> Int

    /// The engine's name in telemetry (`messaging.system`).
    var messagingSystem: String { get }
}

/// An event a group gave up on, kept in `<topic>.dead-letter` with why.
package struct DeadLetter: Sendable, Hashable {
    /// The dead-letter event's own id (what `replay` takes).
    package var id: String
    package var group: String
    package var attempts: Int
    package var reason: String
    /// The event as it was published.
    package var original: EventEnvelope

    package init(id: String, group: String, attempts: Int, reason: String, original: EventEnvelope) {
        self.id = id
        self.group = group
        self.attempts = attempts
        self.reason = reason
        self.original = original
    }
}

package enum DeadLetterTopic {
    /// `<topic>.dead-letter`.
    package static func name(for topic: String) -> String { "\(topic).dead-letter" }

    /// Extensions a dead-letter event carries: why, for which group, after how many deliveries,
    /// and every header of the original under `x-original-` (`x-original-ce-id`, …).
    package static let groupKey = "x-dead-letter-group"
    package static let attemptsKey = "x-dead-letter-attempts"
    package static let reasonKey = "x-dead-letter-reason"
    package static let originalHeaderPrefix = "x-original-"

    /// The dead-letter event of a delivery that used up its attempts: the original body, its
    /// headers kept under `x-original-`, and why it failed.
    package static func envelope(for delivered: DeliveredEvent, group: String, reason: String) -> EventEnvelope {
        let original = delivered.envelope
        var extensions: [String: String] = [:]
        for (name, value) in original.headers { extensions[originalHeaderPrefix + name] = value }
        extensions[groupKey] = group
        extensions[attemptsKey] = "\(delivered.attempt)"
        extensions[reasonKey] = reason
        return EventEnvelope(
            id: "\(original.id).dead-letter.\(group)",
            type: name(for: original.topic),
            source: original.source,
            subject: original.subject,
            payload: original.payload,
            extensions: extensions
        )
    }
}
