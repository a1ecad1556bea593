import Synchronization

/// Lets one placement per idempotency key run at a time in this process. Duplicates that race
/// (a client retrying before its first attempt answered) queue behind the first and then find
/// its order, so they never reserve stock a second time. Across replicas the database's
/// unique key is the guard; this gate makes the common case exact and cheap.
package final class IdempotencyKeyGate: Sendable {
    private struct State {
        /// Keys being placed now, each with the callers waiting for it.
        var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Runs `body` once no other call for `key` is running.
    package func withExclusiveAccess<Result: Sendable>(to key: String, _ body: () async throws -> Result) async throws -> Result {
        await enter(key)
        defer { leave(key) }
        return try await body()
    }

    private func enter(_ key: String) async {
        await withCheckedContinuation { continuation in
            let proceed: Bool = state.withLock { state in
                if state.waiting[key] == nil {
                    state.waiting[key] = []
                    return true
                }
                state.waiting[key, default: []].append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    private func leave(_ key: String) {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard var queue = state.waiting[key], !queue.isEmpty else {
                state.waiting[key] = nil
                return nil
            }
            // The key stays taken: it passes straight to the next waiter.
            let next = queue.removeFirst()
            state.waiting[key] = queue
            return next
        }
        next?.resume()
    }
}
