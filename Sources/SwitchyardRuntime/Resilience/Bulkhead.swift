import Synchronization

/// Limits how many calls may be in flight to one downstream at once, so a slow or hung
/// dependency ties up at most that many of our requests and never all of them. Calls over
/// the limit wait in a bounded queue; when the queue is full they fail at once, and a waiting
/// call gives up at its deadline.
///
/// ```swift
/// let inventory = Bulkhead(name: "inventory", maxConcurrent: 64, maxQueued: 256)
/// let stock = try await inventory.run { try await client.getStock(request) }
/// ```
package final class Bulkhead: Sendable {
    package let name: String
    package let maxConcurrent: Int
    package let maxQueued: Int

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var inFlight = 0
        var queue: [Waiter] = []
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
            if state.inFlight < maxConcurrent {
                state.inFlight += 1
                return .admitted
            }
            guard state.queue.count < maxQueued else { return .rejected }
            state.nextID += 1
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

    /// Waits in the queue, bounded by the request deadline; a slot handed over by `release()`
    /// arrives already counted in `inFlight`.
    private func waitForSlot(id: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let admitted: Bool = self.state.withLock { state in
                            if Task.isCancelled { return false }
                            state.queue.append(Waiter(id: id, continuation: continuation))
                            return true
                        }
                        if !admitted { continuation.resume(throwing: CancellationError()) }
                    }
                } onCancel: {
                    self.abandon(id: id, error: CancellationError())
                }
            }
            if let remaining = RequestDeadline.remaining {
                group.addTask {
                    try await Task.sleep(for: remaining)
                    self.abandon(id: id, error: BulkheadError.timedOut(name: self.name))
                }
            }
            // The first task to finish decides: the slot (success) or the deadline (error).
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Removes a waiter that gave up and fails it; a waiter already handed a slot is left alone.
    private func abandon(id: Int, error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
            return state.queue.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    private func release() {
        let next: Waiter? = state.withLock { state in
            if state.queue.isEmpty {
                state.inFlight -= 1
                return nil
            }
            // Hand the slot straight to the oldest waiter: inFlight stays the same.
            return state.queue.removeFirst()
        }
        next?.continuation.resume()
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
