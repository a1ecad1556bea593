import Synchronization

/// Wakes waiting consumers when something they may claim appears (an event published, a
/// delivery released), so idle consumers need not poll fast. Waiting is always bounded by a
/// timeout too: retries fall due, leases expire, and other processes publish to a shared file
/// without telling this one.
package final class EventNotifier: Sendable {
    private struct State {
        var generation = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Wakes everyone waiting now.
    package func notifyAll() {
        let waiters = state.withLock { state in
            state.generation += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The current generation; pass it to `wait` so a notification in between is not missed.
    package var generation: Int { state.withLock { $0.generation } }

    /// Returns when notified after `generation`, after `timeout`, or on cancellation.
    package func wait(since generation: Int, timeout: Duration) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow: Bool = self.state.withLock { state in
                            if state.generation != generation || Task.isCancelled { return true }
                            state.waiters[id] = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.wake(id)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.wake(id)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Wakes one waiter (its timeout passed or it was cancelled).
    private func wake(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume()
    }
}
