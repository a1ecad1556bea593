import Synchronization

/// Where an observer (`EventBus.observe`) is in the log, and what it has read ahead: state an
/// `AsyncThrowingStream(unfolding:)` closure, which must be `Sendable`, keeps between calls.
final class ObserverCursor: Sendable {
    private let state: Mutex<(next: Int64?, buffer: [EventEnvelope])>

    init(next: Int64?) {
        state = Mutex((next, []))
    }

    /// The sequence to read from next, `nil` for "the end of the log as it is now".
    var next: Int64? { state.withLock { $0.next } }
    var isEmpty: Bool { state.withLock { $0.buffer.isEmpty } }

    func takeBuffered() -> EventEnvelope? {
        state.withLock { $0.buffer.isEmpty ? nil : $0.buffer.removeFirst() }
    }

    func refill(_ events: [EventEnvelope], next: Int64) {
        state.withLock { state in
            state.buffer += events
            state.next = next
        }
    }
}
