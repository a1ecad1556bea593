import Synchronization

/// Group commit for concurrent publishers: whoever arrives while no write is running becomes
/// the leader and writes everything queued (its own batch and everyone else's) in one
/// transaction, again and again until the queue is empty; the others just wait for their
/// batch's result.
///
/// Why: a SQLite commit costs far more than the rows in it, so one event per transaction caps
/// a busy producer at a few thousand events a second, while one transaction for whatever has
/// accumulated during the previous commit amortises that cost over hundreds. No background
/// task is needed: a lone publisher writes its own batch straight away (no added latency),
/// and the queue is empty whenever nobody is publishing.
package final class GroupCommitQueue<Item: Sendable>: Sendable {
    private struct Pending {
        var items: [Item]
        var waiter: CommitWaiter
    }

    private struct State {
        var pending: [Pending] = []
        var leaderActive = false
    }

    private let state = Mutex(State())
    /// The most items one transaction takes; the rest wait for the next round.
    private let maxItemsPerCommit: Int

    /// - Parameter maxItemsPerCommit: Bounds one transaction (and so how long the write lock
    ///   is held); a single batch larger than this is still written whole.
    package init(maxItemsPerCommit: Int = 4096) {
        self.maxItemsPerCommit = max(1, maxItemsPerCommit)
    }

    /// Stores `items` through `commit`, together with whatever other callers queued meanwhile,
    /// and returns once they are committed.
    /// - Parameter commit: Writes a batch of items in one transaction. It is called by the
    ///   leader for several callers' items at once, so it must not depend on who calls it.
    /// - Throws: What `commit` threw for the transaction that carried `items`.
    package func submit(_ items: [Item], commit: ([Item]) async throws -> Void) async throws {
        let waiter = CommitWaiter()
        let leads = state.withLock { state in
            state.pending.append(Pending(items: items, waiter: waiter))
            if state.leaderActive { return false }
            state.leaderActive = true
            return true
        }
        if leads {
            while let round = takeRound() {
                let result: Result<Void, any Error>
                do {
                    try await commit(round.flatMap(\.items))
                    result = .success(())
                } catch {
                    result = .failure(error)
                }
                for pending in round { pending.waiter.resolve(result) }
            }
        }
        try await waiter.value()
    }

    /// Batches waiting for the next commit (not counting the one being written): for tests.
    package var queuedBatches: Int { state.withLock { $0.pending.count } }

    /// The next round of batches, or nil (and leadership given up) when the queue is empty.
    private func takeRound() -> [Pending]? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.leaderActive = false
                return nil
            }
            var count = 0
            var taken = 0
            for pending in state.pending {
                if taken > 0 && count + pending.items.count > maxItemsPerCommit { break }
                count += pending.items.count
                taken += 1
            }
            let round = Array(state.pending.prefix(taken))
            state.pending.removeFirst(taken)
            return round
        }
    }
}

/// One caller's wait for its commit: resolved once, awaited once, in either order.
private final class CommitWaiter: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Void, any Error>?)
        case resolved(Result<Void, any Error>)
    }

    private let state = Mutex(State.waiting(nil))

    func resolve(_ result: Result<Void, any Error>) {
        let continuation: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .resolved(result)
            return continuation
        }
        continuation?.resume(with: result)
    }

    func value() async throws {
        // Not cancellable on purpose: the items are in a transaction that may already have
        // committed, so the caller must learn the outcome rather than guess it.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result: Result<Void, any Error>? = state.withLock { state in
                switch state {
                case .resolved(let result):
                    return result
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }
}
