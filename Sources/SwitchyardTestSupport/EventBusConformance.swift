import Foundation
package import SwitchyardEventBus
import Synchronization
import Testing

/// What an engine can do beyond the basics, so the suite runs only the checks that apply.
package struct EventBusFeatures: Sendable {
    /// Events survive reopening the bus on the same storage.
    package var durable: Bool

    package init(durable: Bool) {
        self.durable = durable
    }
}

/// Makes the engine under test. `reopen` must give a new bus on the same storage as the bus it
/// was handed (for durability checks); non-durable engines may return a fresh one.
package protocol EventBusFactory: Sendable {
    func makeBus() async throws -> any EventBus
    func reopen(_ bus: any EventBus) async throws -> any EventBus
}

/// Records what handlers saw, across tasks.
package final class DeliveryLog: Sendable {
    package struct Entry: Sendable, Hashable {
        package var consumer: String
        package var eventID: String
        package var subject: String?
        package var attempt: Int
    }

    private let entries = Mutex<[Entry]>([])

    package init() {}

    package func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
    package var all: [Entry] { entries.withLock { $0 } }
    package func ids(of consumer: String? = nil) -> [String] {
        all.filter { consumer == nil || $0.consumer == consumer }.map(\.eventID)
    }
}

/// One conformance suite for every `EventBus` engine: publish and subscribe, groups, competing
/// instances, order per subject, acknowledgement and redelivery, dead letters, replay, leases,
/// de-duplication and durability. An engine passes when every check passes.
package struct EventBusConformance: Sendable {
    package let factory: any EventBusFactory
    package let features: EventBusFeatures

    package init(factory: any EventBusFactory, features: EventBusFeatures) {
        self.factory = factory
        self.features = features
    }

    /// Options that make failures quick to observe in tests.
    package static let fastOptions = ConsumerOptions(
        maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(40), ackTimeout: .seconds(30), batchSize: 16
    )

    package static func event(_ number: Int, topic: String = "order.placed", subject: String? = nil) -> EventEnvelope {
        EventEnvelope(
            id: "event-\(number)-\(topic)",
            type: topic,
            source: "/switchyard/test",
            subject: subject,
            payload: Array(#"{"number": \#(number)}"#.utf8),
            extensions: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
        )
    }

    /// Runs `consumers` (name, group, topics, handler) while `body` runs, then cancels them.
    package func withConsumers(
        on bus: any EventBus,
        _ consumers: [(name: String, group: String, topics: [String], options: ConsumerOptions, handler: EventHandler)],
        body: () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for consumer in consumers {
                group.addTask {
                    try? await bus.consume(group: consumer.group, topics: consumer.topics, options: consumer.options, handler: consumer.handler)
                }
            }
            defer { group.cancelAll() }
            try await body()
        }
    }

    // MARK: - The checks

    /// Every published event reaches the group, in publication order, with its body and headers.
    package func publishAndConsume() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        let events = (0..<20).map { Self.event($0) }
        let received = Mutex<[EventEnvelope]>([])
        try await bus.publish(events)
        try await withConsumers(on: bus, [("a", "fulfillment", ["order.placed"], Self.fastOptions, { delivered in
            log.append(.init(consumer: "a", eventID: delivered.envelope.id, subject: delivered.envelope.subject, attempt: delivered.attempt))
            received.withLock { $0.append(delivered.envelope) }
        })]) {
            try await eventually("20 deliveries") { log.all.count >= 20 }
        }
        #expect(log.ids() == events.map(\.id))
        let first = try #require(received.withLock { $0.first })
        #expect(first.payload == events[0].payload)
        #expect(first.extensions["traceparent"] == events[0].extensions["traceparent"])
        #expect(first.source == events[0].source)
        #expect(log.all.allSatisfy { $0.attempt == 1 })
    }

    /// Every field of an envelope arrives exactly as published, edge cases included: an empty
    /// body, no subject, text beyond ASCII, quotes and separators in extension values. (Not line
    /// breaks: a binary-mode CloudEvent carries extensions as headers, which cannot hold them,
    /// and the JetStream engine refuses them with a clear error.)
    package func fieldsRoundTripExactly() async throws {
        let bus = try await factory.makeBus()
        let time = Date(timeIntervalSince1970: 1_765_000_000.123)
        let events = [
            EventEnvelope(id: "empty-body", type: "order.placed", source: "/switchyard/test", time: time, subject: nil, payload: []),
            EventEnvelope(
                id: "odd-\u{00E9}v\u{00E9}nement", type: "order.placed", source: "/switchyard/t\u{00E9}st", time: time, subject: "ord \"quoted\" \u{1F69A}",
                payload: Array("{\"note\": \"\u{00FC}\u{0000}binary\"}".utf8) + [0, 255, 10],
                extensions: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "a=\"b\",c=\\d", "x-note": "semi;colon: {value}"]
            ),
        ]
        let received = Mutex<[String: EventEnvelope]>([:])
        try await bus.publish(events)
        try await withConsumers(on: bus, [("a", "fields", ["order.placed"], Self.fastOptions, { delivered in
            received.withLock { $0[delivered.envelope.id] = delivered.envelope }
        })]) {
            try await eventually("both deliveries") { received.withLock { $0.count } >= 2 }
        }
        for event in events {
            let got = try #require(received.withLock { $0[event.id] }, "\(event.id) was not delivered")
            #expect(got.type == event.type)
            #expect(got.source == event.source)
            #expect(got.subject == event.subject)
            #expect(got.payload == event.payload)
            #expect(got.extensions == event.extensions)
            #expect(abs(got.time.timeIntervalSince(event.time)) < 0.002)
        }
    }

    /// Each group receives every event of its topics, and only those.
    package func everyGroupGetsEveryEvent() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        try await bus.publish((0..<10).map { Self.event($0) } + (0..<5).map { Self.event($0, topic: "shipment.dispatched") })
        try await withConsumers(on: bus, [
            ("fulfillment", "fulfillment", ["order.placed"], Self.fastOptions, { log.append(.init(consumer: "fulfillment", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt)) }),
            ("inventory", "inventory", ["order.placed"], Self.fastOptions, { log.append(.init(consumer: "inventory", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt)) }),
            ("orders", "orders", ["shipment.dispatched"], Self.fastOptions, { log.append(.init(consumer: "orders", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt)) }),
        ]) {
            try await eventually("every group to finish") { log.all.count >= 25 }
        }
        #expect(log.ids(of: "fulfillment").count == 10)
        #expect(log.ids(of: "inventory").count == 10)
        #expect(Set(log.ids(of: "orders")) == Set((0..<5).map { Self.event($0, topic: "shipment.dispatched").id }))
    }

    /// Instances of one group share the work: every event is handled once in all.
    package func competingInstances() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        var options = Self.fastOptions
        options.batchSize = 4
        let handler: @Sendable (String) -> EventHandler = { name in
            { delivered in
                log.append(.init(consumer: name, eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        try await withConsumers(on: bus, [
            ("one", "fulfillment", ["order.placed"], options, handler("one")),
            ("two", "fulfillment", ["order.placed"], options, handler("two")),
        ]) {
            try await bus.publish((0..<200).map { Self.event($0) })
            try await eventually("200 deliveries") { log.all.count >= 200 }
        }
        #expect(log.all.count == 200)
        #expect(Set(log.ids()).count == 200)
        #expect(!log.ids(of: "one").isEmpty)
        #expect(!log.ids(of: "two").isEmpty)
    }

    /// Events with the same subject reach a group in publication order, even across competing
    /// instances and retries.
    package func orderPerSubject() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        let failedOnce = Mutex<Set<String>>([])
        var options = Self.fastOptions
        options.batchSize = 3
        let handler: @Sendable (String) -> EventHandler = { name in
            { delivered in
                // Every fifth event fails on its first delivery.
                let number = Int(delivered.envelope.id.split(separator: "-")[1]) ?? 0
                if number % 5 == 0, failedOnce.withLock({ $0.insert(delivered.envelope.id).inserted }) {
                    throw ConformanceError.deliberate
                }
                log.append(.init(consumer: name, eventID: delivered.envelope.id, subject: delivered.envelope.subject, attempt: delivered.attempt))
            }
        }
        let events = (0..<60).map { Self.event($0, subject: "order-\($0 % 4)") }
        try await withConsumers(on: bus, [
            ("one", "fulfillment", ["order.placed"], options, handler("one")),
            ("two", "fulfillment", ["order.placed"], options, handler("two")),
        ]) {
            try await bus.publish(events)
            try await eventually("60 handled") { log.all.count >= 60 }
        }
        for subject in (0..<4).map({ "order-\($0)" }) {
            let expected = events.filter { $0.subject == subject }.map(\.id)
            #expect(log.all.filter { $0.subject == subject }.map(\.eventID) == expected, "out of order for \(subject)")
        }
    }

    /// A handler that throws gets the event again, with the attempt counted.
    package func failureIsRedelivered() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        try await bus.publish([Self.event(1)])
        try await withConsumers(on: bus, [("a", "fulfillment", ["order.placed"], Self.fastOptions, { delivered in
            log.append(.init(consumer: "a", eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
            if delivered.attempt == 1 { throw ConformanceError.deliberate }
        })]) {
            try await eventually("the second delivery") { log.all.count >= 2 }
        }
        #expect(log.all.map(\.attempt) == [1, 2])
    }

    /// After `maxAttempts` failures an event goes to `<topic>.dead-letter` with its reason,
    /// the group keeps flowing, and a replay delivers it again to that group only.
    package func deadLetterAndReplay() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        let poisoned = Mutex(true)
        try await bus.publish((0..<5).map { Self.event($0) })
        try await withConsumers(on: bus, [
            ("fulfillment", "fulfillment", ["order.placed"], Self.fastOptions, { delivered in
                log.append(.init(consumer: "fulfillment", eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
                if delivered.envelope.id == Self.event(2).id, poisoned.withLock({ $0 }) { throw ConformanceError.deliberate }
            }),
            ("inventory", "inventory", ["order.placed"], Self.fastOptions, { delivered in
                log.append(.init(consumer: "inventory", eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
            }),
            ("watcher", "dead-letter-watch", ["order.placed.dead-letter"], Self.fastOptions, { delivered in
                log.append(.init(consumer: "watcher", eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
            }),
        ]) {
            try await eventually("the dead letter") { !log.ids(of: "watcher").isEmpty }
            try await eventually("the rest to flow") { log.ids(of: "fulfillment").filter { $0 != Self.event(2).id }.count == 4 }
            let letters = try await bus.deadLetters(limit: 10)
            #expect(letters.count == 1)
            let letter = try #require(letters.first)
            #expect(letter.group == "fulfillment")
            #expect(letter.attempts == 3)
            #expect(letter.reason.contains("deliberate"))
            #expect(letter.original.id == Self.event(2).id)
            #expect(letter.original.extensions["traceparent"] == Self.event(2).extensions["traceparent"])
            #expect(log.ids(of: "fulfillment").filter { $0 == Self.event(2).id }.count == 3)

            poisoned.withLock { $0 = false }
            #expect(try await bus.replay(deadLetterID: letter.id))
            #expect(try await !bus.replay(deadLetterID: letter.id))
            try await eventually("the replay") { log.ids(of: "fulfillment").filter { $0 == Self.event(2).id }.count == 4 }
            #expect(try await bus.deadLetters(limit: 10).isEmpty)
        }
        #expect(log.ids(of: "inventory").count == 5, "a replay reaches only the group that gave up")
    }

    /// The same event id published twice is stored and delivered once.
    package func duplicatesAreIgnored() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        try await bus.publish([Self.event(1), Self.event(2)])
        try await bus.publish([Self.event(1), Self.event(3)])
        try await withConsumers(on: bus, [("a", "fulfillment", ["order.placed"], Self.fastOptions, {
            log.append(.init(consumer: "a", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt))
        })]) {
            try await eventually("three deliveries") { log.all.count >= 3 }
            // Give a fourth (duplicate) delivery the chance to show up before checking.
            try await bus.publish([Self.event(4)])
            try await eventually("the fourth") { log.all.count >= 4 }
        }
        #expect(log.ids() == [1, 2, 3, 4].map { Self.event($0).id })
    }

    /// One publish of more events than fit one insert statement (the embedded engine writes
    /// 32 per statement): every event once, in publication order, duplicates skipped whether
    /// they repeat an earlier publish or an event earlier in the same call.
    package func largePublishKeepsOrderAndSkipsDuplicates() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        try await bus.publish([Self.event(3)])
        let numbers = Array(1...70) + [5, 40, 70, 3]
        try await bus.publish(numbers.map { Self.event($0) })
        try await withConsumers(on: bus, [("a", "fulfillment", ["order.placed"], Self.fastOptions, {
            log.append(.init(consumer: "a", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt))
        })]) {
            try await eventually("seventy deliveries") { log.all.count >= 70 }
            // A duplicate would follow the seventy: publish a marker and wait for it.
            try await bus.publish([Self.event(71)])
            try await eventually("the marker") { log.all.count >= 71 }
        }
        #expect(log.ids() == ([3] + (1...71).filter { $0 != 3 }).map { Self.event($0).id })
    }

    /// A consumer that dies holding a claim loses it when its lease runs out: another
    /// instance gets the event, as a second attempt.
    package func expiredLeaseIsRedelivered() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        var options = Self.fastOptions
        options.ackTimeout = .milliseconds(300)
        options.batchSize = 1
        try await bus.publish([Self.event(1)])
        // The first instance takes the event and hangs until cancelled: a consumer that died.
        try await withConsumers(on: bus, [("stuck", "fulfillment", ["order.placed"], options, { delivered in
            log.append(.init(consumer: "stuck", eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
            try await Task.sleep(for: .seconds(3600))
        })]) {
            try await eventually("the stuck delivery") { log.all.count == 1 }
        }
        try await withConsumers(on: bus, [("rescuer", "fulfillment", ["order.placed"], options, {
            log.append(.init(consumer: "rescuer", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt))
        })]) {
            try await eventually("the redelivery") { log.ids(of: "rescuer").count == 1 }
        }
        #expect(log.all.last?.attempt == 2)
    }

    /// An idle consumer finds events another instance of the bus published (another process
    /// sharing the store): nothing in its own instance tells it about them, so it must look.
    package func idleConsumerSeesOtherInstancesEvents() async throws {
        guard features.durable else { return }
        let bus = try await factory.makeBus()
        let other = try await factory.reopen(bus)
        let log = DeliveryLog()
        try await bus.publish([Self.event(0)])
        try await withConsumers(on: bus, [("a", "fulfillment", ["order.placed"], Self.fastOptions, {
            log.append(.init(consumer: "a", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt))
        })]) {
            try await eventually("the first event") { log.all.count >= 1 }
            try await other.publish([Self.event(1), Self.event(2, topic: "shipment.dispatched"), Self.event(3)])
            try await eventually("the other instance's events") { log.all.count >= 3 }
        }
        #expect(log.ids() == [Self.event(0), Self.event(1), Self.event(3)].map(\.id))
    }

    /// Published events and each group's progress survive reopening the bus.
    package func durableAcrossRestart() async throws {
        guard features.durable else { return }
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        try await bus.publish((0..<10).map { Self.event($0) })
        try await withConsumers(on: bus, [("before", "fulfillment", ["order.placed"], Self.fastOptions, {
            log.append(.init(consumer: "before", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt))
        })]) {
            try await eventually("ten deliveries") { log.all.count >= 10 }
        }
        let reopened = try await factory.reopen(bus)
        try await reopened.publish((10..<15).map { Self.event($0) })
        try await withConsumers(on: reopened, [("after", "fulfillment", ["order.placed"], Self.fastOptions, {
            log.append(.init(consumer: "after", eventID: $0.envelope.id, subject: nil, attempt: $0.attempt))
        })]) {
            try await eventually("five more") { log.ids(of: "after").count >= 5 }
        }
        #expect(log.ids(of: "after") == (10..<15).map { Self.event($0).id }, "nothing handled before the restart came again")
    }
}

package enum ConformanceError: Error, CustomStringConvertible {
    case deliberate
    package var description: String { "deliberate failure" }
}

/// A failure retrying cannot cure.
package struct PoisonError: UnretryableEventError, CustomStringConvertible {
    package var description: String { "poison: cannot be handled" }
}

extension EventBusConformance {
    /// An unretryable failure dead-letters at once, on the first delivery.
    package func unretryableGoesStraightToDeadLetter() async throws {
        let bus = try await factory.makeBus()
        let log = DeliveryLog()
        try await bus.publish([Self.event(1), Self.event(2)])
        try await withConsumers(on: bus, [("a", "fulfillment", ["order.placed"], Self.fastOptions, { delivered in
            log.append(.init(consumer: "a", eventID: delivered.envelope.id, subject: nil, attempt: delivered.attempt))
            if delivered.envelope.id == Self.event(1).id { throw PoisonError() }
        })]) {
            try await eventually("the dead letter") { try await !bus.deadLetters(limit: 10).isEmpty }
            try await eventually("the next event") { log.ids().contains(Self.event(2).id) }
        }
        let letter = try #require(try await bus.deadLetters(limit: 10).first)
        #expect(letter.attempts == 1)
        #expect(letter.reason == "poison: cannot be handled")
        #expect(log.ids().filter { $0 == Self.event(1).id }.count == 1)
    }

    /// An observer sees what is published after it starts (or everything, from the start),
    /// without taking events from any group.
    package func observe() async throws {
        let bus = try await factory.makeBus()
        try await bus.publish([Self.event(1)])
        let seen = SeenIDs()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await event in bus.observe(topics: ["order.placed"], fromStart: true) {
                    seen.append(event.id)
                }
            }
            try await eventually("the existing event") { seen.all == [Self.event(1).id] }
            try await bus.publish([Self.event(2, topic: "shipment.dispatched"), Self.event(3)])
            try await eventually("the new event") { seen.all == [Self.event(1).id, Self.event(3).id] }
            group.cancelAll()
        }
    }
}

/// Event ids an observer saw, across tasks.
final class SeenIDs: Sendable {
    private let ids = Mutex<[String]>([])
    func append(_ id: String) { ids.withLock { $0.append(id) } }
    var all: [String] { ids.withLock { $0 } }
}
