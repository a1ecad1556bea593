import Foundation
import ServiceLifecycle
import SwitchyardRuntime
import Synchronization

/// An `EventBus` in memory: the reference the conformance suite holds the durable engines to,
/// and a fast stand-in for tests of other layers. Nothing survives the process.
package final class InMemoryEventBus: EventBus {
    private struct Stored {
        var sequence: Int64
        var envelope: EventEnvelope
    }

    private struct GroupState {
        var cursor: Int64 = 0
        var deliveries: [Int64: DeliveryState] = [:]
    }

    private struct State {
        var log: [Stored] = []
        var ids: Set<String> = []
        var groups: [String: GroupState] = [:]
        var deadLetters: [DeadLetter] = []
        /// Dead letter id → (group, original sequence), until replayed.
        var replayable: [String: (group: String, sequence: Int64)] = [:]
    }

    private let state = Mutex(State())
    private let notifier = EventNotifier()

    package init() {}

    package func publish(_ events: [EventEnvelope]) async throws {
        state.withLock { state in
            for event in events { Self.append(event, to: &state) }
        }
        notifier.notifyAll()
    }

    private static func append(_ event: EventEnvelope, to state: inout State) {
        guard state.ids.insert(event.id).inserted else { return }
        state.log.append(Stored(sequence: Int64(state.log.count + 1), envelope: event))
    }

    package func consume(group: String, topics: [String], options: ConsumerOptions, handler: @escaping EventHandler) async throws {
        let topicSet = Set(topics)
        await withGracefulShutdownHandler {
            await consumeUntilShutdown(group: group, topics: topicSet, options: options, handler: handler)
        } onGracefulShutdown: {
            self.notifier.notifyAll()
        }
    }

    private func consumeUntilShutdown(group: String, topics topicSet: Set<String>, options: ConsumerOptions, handler: @escaping EventHandler) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let generation = notifier.generation
            let batch = claim(group: group, topics: topicSet, options: options)
            if batch.isEmpty {
                await notifier.wait(since: generation, timeout: .milliseconds(50))
                continue
            }
            for (sequence, delivered) in batch {
                do {
                    try await handler(delivered)
                    settle(group: group, topics: topicSet, sequence: sequence, as: .done)
                } catch {
                    let now = Date().unixMilliseconds
                    if let retry = DeliveryPlanning.afterFailure(attempt: delivered.attempt, error: error, options: options, nowMilliseconds: now) {
                        settle(group: group, topics: topicSet, sequence: sequence, as: retry)
                    } else {
                        deadLetter(group: group, topics: topicSet, sequence: sequence, delivered: delivered, error: error)
                    }
                }
                if Task.isCancelled { break }
            }
            notifier.notifyAll()
        }
    }

    private func claim(group: String, topics: Set<String>, options: ConsumerOptions) -> [(Int64, DeliveredEvent)] {
        let now = Date().unixMilliseconds
        let leaseMilliseconds = options.ackTimeout.components.seconds * 1000 + options.ackTimeout.components.attoseconds / 1_000_000_000_000_000
        return state.withLock { state in
            var groupState = state.groups[group] ?? GroupState()
            // Replayed dead letters sit below the cursor: look at those first.
            let replays = groupState.deliveries.filter { $0.key < groupState.cursor }.keys.sorted()
            let fromCursor = state.log.lazy.filter { $0.sequence >= groupState.cursor && topics.contains($0.envelope.topic) }
            let candidates = (replays.compactMap { sequence in state.log.first { $0.sequence == sequence } } + Array(fromCursor))
                .map { ClaimCandidate(sequence: $0.sequence, subject: $0.envelope.subject, state: groupState.deliveries[$0.sequence]) }
            let claims = DeliveryPlanning.claims(from: candidates, nowMilliseconds: now, limit: options.batchSize)
            var batch: [(Int64, DeliveredEvent)] = []
            for claim in claims {
                groupState.deliveries[claim.sequence] = .inFlight(attempts: claim.attempt, leaseUntilMilliseconds: now + leaseMilliseconds)
                if let stored = state.log.first(where: { $0.sequence == claim.sequence }) {
                    batch.append((claim.sequence, DeliveredEvent(envelope: stored.envelope, attempt: claim.attempt)))
                }
            }
            state.groups[group] = groupState
            return batch
        }
    }

    private func settle(group: String, topics: Set<String>, sequence: Int64, as newState: DeliveryState) {
        state.withLock { state in
            var groupState = state.groups[group] ?? GroupState()
            groupState.deliveries[sequence] = newState
            Self.advanceCursor(&groupState, log: state.log, topics: topics)
            state.groups[group] = groupState
        }
    }

    private func deadLetter(group: String, topics: Set<String>, sequence: Int64, delivered: DeliveredEvent, error: any Error) {
        state.withLock { state in
            let letter = Self.deadLetterEnvelope(for: delivered, group: group, error: error)
            Self.append(letter.envelope, to: &state)
            state.deadLetters.append(letter.record)
            state.replayable[letter.envelope.id] = (group, sequence)
            var groupState = state.groups[group] ?? GroupState()
            groupState.deliveries[sequence] = .done
            Self.advanceCursor(&groupState, log: state.log, topics: topics)
            state.groups[group] = groupState
        }
    }

    /// Moves the cursor past settled events, and forgets their delivery records.
    private static func advanceCursor(_ group: inout GroupState, log: [Stored], topics: Set<String>) {
        var cursor = max(group.cursor, 1)
        while let stored = log.first(where: { $0.sequence >= cursor }) {
            if topics.contains(stored.envelope.topic), group.deliveries[stored.sequence] != .done { break }
            group.deliveries[stored.sequence] = nil
            cursor = stored.sequence + 1
        }
        group.cursor = cursor
    }

    package func observe(topics: [String], fromStart: Bool) -> AsyncThrowingStream<EventEnvelope, any Error> {
        let topics = Set(topics)
        let cursor = ObserverCursor(next: fromStart ? 1 : state.withLock { Int64($0.log.count + 1) })
        return AsyncThrowingStream { [self] in
            while !Task.isCancelled {
                let generation = notifier.generation
                let start = cursor.next ?? 1
                let found: (EventEnvelope?, Int64) = state.withLock { state in
                    var position = start
                    while position <= Int64(state.log.count) {
                        let stored = state.log[Int(position - 1)]
                        position += 1
                        if topics.contains(stored.envelope.topic) { return (stored.envelope, position) }
                    }
                    return (nil, position)
                }
                cursor.refill([], next: found.1)
                if let event = found.0 { return event }
                await notifier.wait(since: generation, timeout: .milliseconds(100))
            }
            return nil
        }
    }

    package var messagingSystem: String { "switchyard.memory" }

    package func lag(group: String, topic: String) async throws -> Int {
        state.withLock { state in
            let groupState = state.groups[group] ?? GroupState()
            return state.log.lazy.filter {
                $0.sequence >= groupState.cursor && $0.envelope.topic == topic && groupState.deliveries[$0.sequence] != .done
            }.count
        }
    }

    package func deadLetters(limit: Int) async throws -> [DeadLetter] {
        state.withLock { state in Array(state.deadLetters.filter { state.replayable[$0.id] != nil }.prefix(limit)) }
    }

    package func replay(deadLetterID: String) async throws -> Bool {
        let replayed: Bool = state.withLock { state in
            guard let target = state.replayable.removeValue(forKey: deadLetterID) else { return false }
            var groupState = state.groups[target.group] ?? GroupState()
            groupState.deliveries[target.sequence] = .retry(attempts: 0, notBeforeMilliseconds: 0)
            state.groups[target.group] = groupState
            return true
        }
        if replayed { notifier.notifyAll() }
        return replayed
    }

    static func deadLetterEnvelope(for delivered: DeliveredEvent, group: String, error: any Error) -> (envelope: EventEnvelope, record: DeadLetter) {
        let envelope = DeadLetterTopic.envelope(for: delivered, group: group, reason: "\(error)")
        return (envelope, DeadLetter(id: envelope.id, group: group, attempts: delivered.attempt, reason: "\(error)", original: delivered.envelope))
    }
}
