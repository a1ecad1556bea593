import Synchronization

/// Limits how many calls may be in flight to one downstream at once, so a slow or hung
/// dependency ties up at most that many of our requests and never all of them. Calls over
/// the limit wait in a bounded queue, in order; when the queue is full they fail at once, and
/// a waiting call gives up at its request deadline.
///
/// ```swift
/// let inventory = Bulkhead(name: "inventory", maxConcurrent: 64, maxQueued: 256)
/// let stock = try await inventory.run { try await client.getStock(request) }
/// ```
package final class Bulkhead: Sendable {
    package let name: String
    package let maxConcurrent: Int
    package let maxQueued: Int

    /// A queued call. Its place is taken when admission decides it must wait; its continuation
    /// arrives a moment later, so a slot or an abandonment can come first and is kept here.
    private enum Waiter {
        case waiting(CheckedContinuation<Void, any Error>?)
        /// A slot was handed over before the continuation arrived.
        case granted
        /// It gave up before the continuation arrived.
        case abandoned(any Error)
    }

    private struct State {
        var inFlight = 0
        /// Queued ids, oldest first; the queue's length is what the limit counts.
        var queue: [Int] = []
        var waiters: [Int: Waiter] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - name: Named in rejections.
    ///   - maxConcurrent: Calls allowed in flight at once.
    ///   - maxQueued: Calls allowed to wait for a slot; beyond this they are rejected at once.
    package init(name: String, maxConcurrent: Int, maxQueued: Int) {
        self.name = name
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueued = max(0, maxQueued)
    }

    /// Calls in flight now (for tests and metrics).
    package var inFlight: Int { state.withLock { $0.inFlight } }
    /// Calls waiting for a slot now (for tests and metrics).
    package var queued: Int { state.withLock { $0.queue.count } }

    /// Runs `body` once a slot is free.
    /// - Throws: `BulkheadError.full` when the queue is full, `.timedOut` when the current
    ///   `RequestDeadline` passes while waiting, or `CancellationError`.
    package func run<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        enum Decision { case admitted, rejected, wait(Int) }
        let decision: Decision = state.withLock { state in
            if state.inFlight < maxConcurrent && state.queue.isEmpty {
                state.inFlight += 1
                return .admitted
            }
            guard state.queue.count < maxQueued else { return .rejected }
            state.nextID += 1
            state.queue.append(state.nextID)
            state.waiters[state.nextID] = .waiting(nil)
            return .wait(state.nextID)
        }
        switch decision {
        case .admitted:
            return
        case .rejected:
            throw BulkheadError.full(name: name, limit: maxConcurrent)
        case .wait(let id):
            try await waitForSlot(id: id)
        }
    }

    /// Waits for the slot `release()` hands over, bounded by the request deadline and by
    /// cancellation. A handed-over slot is already counted in `inFlight`.
    private func waitForSlot(id: Int) async throws {
        // Child results: `true` from the slot task (the decision), `false` from the timer.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        self.attach(continuation, to: id)
                    }
                } onCancel: {
                    self.abandon(id: id, error: CancellationError())
                }
                return true
            }
            if let remaining = RequestDeadline.remaining {
                group.addTask {
                    try? await Task.sleep(for: remaining)
                    if !Task.isCancelled {
                        self.abandon(id: id, error: BulkheadError.timedOut(name: self.name))
                    }
                    return false
                }
            }
            defer { group.cancelAll() }
            // Only the slot task decides: it returns once a slot is ours, or throws once the
            // timer (or cancellation) has abandoned the wait. The timer finishing decides nothing.
            while let isSlot = try await group.next() {
                if isSlot { return }
            }
        }
    }

    private func attach(_ continuation: CheckedContinuation<Void, any Error>, to id: Int) {
        enum Outcome { case wait, resume, fail(any Error) }
        let outcome: Outcome = state.withLock { state in
            switch state.waiters[id] {
            case .waiting:
                state.waiters[id] = .waiting(continuation)
                return .wait
            case .granted:
                state.waiters[id] = nil
                return .resume
            case .abandoned(let error):
                state.waiters[id] = nil
                return .fail(error)
            case nil:
                return .fail(CancellationError())
            }
        }
        switch outcome {
        case .wait: break
        case .resume: continuation.resume()
        case .fail(let error): continuation.resume(throwing: error)
        }
    }

    /// Takes a waiter that gave up out of the queue and fails it. One already handed a slot
    /// keeps it: it will run (and find its deadline passed) and release the slot as usual.
    private func abandon(id: Int, error: any Error) {
        let continuation: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state.waiters[id] else { return nil }
            state.queue.removeAll { $0 == id }
            if let continuation {
                state.waiters[id] = nil
                return continuation
            }
            state.waiters[id] = .abandoned(error)
            return nil
        }
        continuation?.resume(throwing: error)
    }

    private func release() {
        let next: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard !state.queue.isEmpty else {
                state.inFlight -= 1
                return nil
            }
            // Hand the slot straight to the oldest waiter: inFlight stays the same.
            let id = state.queue.removeFirst()
            if case .waiting(let continuation?) = state.waiters[id] {
                state.waiters[id] = nil
                return continuation
            }
            state.waiters[id] = .granted
            return nil
        }
        next?.resume()
    }
}

/// Why a bulkhead refused a call.
package enum BulkheadError: Error, Hashable, CustomStringConvertible {
    /// Every slot is taken and the queue is full.
    case full(name: String, limit: Int)
    /// The request's deadline passed while it waited for a slot.
    case timedOut(name: String)

    package var description: String {
        switch self {
        case .full(let name, let limit): "\(name) is at its limit of \(limit) calls in flight"
        case .timedOut(let name): "the deadline passed while waiting for \(name)"
        }
    }
}
