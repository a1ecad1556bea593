import Foundation
package import SwitchyardEventBus
import Synchronization

/// `switchyard load bus`: how many durable events a second an engine takes and hands out.
///
/// Two phases, as NATS's own bench reports them: first `publishers` tasks publish `events`
/// events of `payloadBytes` each (in calls of `batch` events, so `batch: 1` with many
/// publishers measures group commit), then `consumers` instances of one fresh group take
/// them all, acknowledging each. Publishing counts once `publish` returned (the events are
/// durable); consuming counts until the last event reached a handler (settling is batched, so
/// at most one batch per consumer is still being acknowledged at that moment).
/// Works against any `EventBus`, so the NATS engine can be measured the same way.
package struct BusBenchmark: Sendable {
    package var events: Int
    package var payloadBytes: Int
    package var publishers: Int
    /// Events per `publish` call.
    package var batch: Int
    package var consumers: Int
    /// Events one consumer instance claims at once.
    package var consumerBatch: Int
    /// Distinct subjects (order keys) the events are spread over.
    package var subjects: Int

    package init(events: Int, payloadBytes: Int = 128, publishers: Int = 64, batch: Int = 1, consumers: Int = 1, consumerBatch: Int = 512, subjects: Int = 1024) {
        self.events = max(1, events)
        self.payloadBytes = max(0, payloadBytes)
        self.publishers = max(1, publishers)
        self.batch = max(1, batch)
        self.consumers = max(1, consumers)
        self.consumerBatch = max(1, consumerBatch)
        self.subjects = max(1, subjects)
    }

    /// What one run measured.
    package struct Result: Sendable {
        /// Latency of each `publish` call.
        package var publishCalls: LatencySample
        package var published: Int
        package var publishElapsed: Duration
        package var consumed: Int
        package var consumeElapsed: Duration

        package var publishRate: Double { Self.rate(published, publishElapsed) }
        package var consumeRate: Double { Self.rate(consumed, consumeElapsed) }

        static func rate(_ count: Int, _ elapsed: Duration) -> Double {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return seconds > 0 ? Double(count) / seconds : 0
        }
    }

    static let topic = "benchmark.recorded"

    /// Runs both phases against `bus`, which should be empty of `benchmark.recorded` events.
    package func run(on bus: any EventBus) async throws -> Result {
        let runID = UUID().uuidString.lowercased()
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: payloadBytes)
        let clock = ContinuousClock()

        // Publish: each publisher takes every `publishers`-th call.
        let calls = (events + batch - 1) / batch
        let publishStart = clock.now
        let publishCalls = try await withThrowingTaskGroup(of: LatencySample.self) { group in
            for publisher in 0..<min(publishers, calls) {
                group.addTask {
                    var sample = LatencySample()
                    for call in stride(from: publisher, to: calls, by: publishers) {
                        let first = call * batch
                        let envelopes = (first..<min(first + batch, events)).map { number in
                            EventEnvelope(
                                id: "\(runID)-\(number)", type: Self.topic, source: "/switchyard/load",
                                subject: "key-\(number % subjects)", payload: payload
                            )
                        }
                        let started = clock.now
                        try await bus.publish(envelopes)
                        sample.record(clock.now - started)
                    }
                    return sample
                }
            }
            var merged = LatencySample()
            for try await sample in group { merged.merge(sample) }
            return merged
        }
        let publishElapsed = clock.now - publishStart

        // Consume: a fresh group starts at the beginning of the log; stop once all are in.
        let handled = EventCounter()
        let (allHandled, signal) = AsyncStream<Void>.makeStream()
        let total = events
        let consumeStart = clock.now
        let options = ConsumerOptions(batchSize: consumerBatch)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<consumers {
                group.addTask {
                    // A consumer that stops (an error, shutdown) ends the wait; the count tells.
                    defer { signal.finish() }
                    try await bus.consume(group: "benchmark-\(runID)", topics: [Self.topic], options: options) { _ in
                        if handled.increment() == total { signal.finish() }
                    }
                }
            }
            for await _ in allHandled {}
            group.cancelAll()
            // A consumer cancelled mid-settle reports CancellationError: expected here.
            while let next = await group.nextResult() {
                if case .failure(let error) = next, !(error is CancellationError) { throw error }
            }
        }
        let consumeElapsed = clock.now - consumeStart
        return Result(
            publishCalls: publishCalls, published: events, publishElapsed: publishElapsed,
            consumed: handled.value, consumeElapsed: consumeElapsed
        )
    }
}

/// Events handled so far, shared by the consumer instances (an `Atomic` cannot be captured by
/// the tasks directly).
private final class EventCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Adds one and returns the new count.
    func increment() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }

    var value: Int { count.load(ordering: .relaxed) }
}
