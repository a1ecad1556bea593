package import Synchronization

/// Enforces the two limits of every call a `PostgresServiceDatabase` makes (the wait for a
/// connection, then the whole call) with one sweep over the calls under way, a few times a
/// tenth of a second, rather than a timer per call.
///
/// Why not `Task.sleep` per call: a cancelled sleep on Linux leaves its dispatch timer armed
/// until the original deadline, so a 30-second call timeout on every call kept tens of
/// thousands of timers armed under load, each call also paying for two extra tasks. Here a
/// call costs one dictionary insert and one remove; the price is precision, a limit firing up
/// to one `sweepInterval` late, which no caller of a one-second or thirty-second limit notices.
package final class DatabaseCallTimeouts: Sendable {
    /// How often `run()` looks at the calls under way.
    package static var sweepInterval: Duration { .milliseconds(25) }

    /// One call being watched.
    package struct WatchedCall: Sendable {
        /// When the pool must have handed the call a connection.
        package var acquireDeadline: ContinuousClock.Instant
        /// When the call must have finished.
        package var callDeadline: ContinuousClock.Instant
        /// Set once the pool hands over a connection.
        package var leased: LeaseFlag
        /// Abandons the call with the error naming the limit it broke.
        package var expire: @Sendable (_ limit: Limit) -> Void

        package init(acquireDeadline: ContinuousClock.Instant, callDeadline: ContinuousClock.Instant, leased: LeaseFlag, expire: @escaping @Sendable (_ limit: Limit) -> Void) {
            self.acquireDeadline = acquireDeadline
            self.callDeadline = callDeadline
            self.leased = leased
            self.expire = expire
        }
    }

    /// Which limit a call broke.
    package enum Limit: Sendable, Equatable {
        case acquire, call
    }

    package init() {}

    private let calls = Mutex<(nextID: UInt64, watched: [UInt64: WatchedCall])>((0, [:]))

    /// Starts watching a call; `forget` it when it finishes.
    package func watch(_ call: WatchedCall) -> UInt64 {
        calls.withLock { state in
            state.nextID &+= 1
            state.watched[state.nextID] = call
            return state.nextID
        }
    }

    package func forget(_ id: UInt64) {
        _ = calls.withLock { $0.watched.removeValue(forKey: id) }
    }

    /// The number of calls being watched (for tests).
    package var count: Int { calls.withLock { $0.watched.count } }

    /// Expires every call past one of its limits as of `now`, and stops watching them.
    package func sweep(now: ContinuousClock.Instant) {
        let expired: [(WatchedCall, Limit)] = calls.withLock { state in
            var expired: [(WatchedCall, Limit)] = []
            for (id, call) in state.watched {
                let limit: Limit?
                if now >= call.callDeadline {
                    limit = .call
                } else if now >= call.acquireDeadline && !call.leased.value.load(ordering: .relaxed) {
                    limit = .acquire
                } else {
                    limit = nil
                }
                if let limit {
                    expired.append((call, limit))
                    state.watched.removeValue(forKey: id)
                }
            }
            return expired
        }
        // Outside the lock: expiring resumes the caller and cancels the call.
        for (call, limit) in expired { call.expire(limit) }
    }

    /// Sweeps every `sweepInterval` until cancelled.
    package func run() async {
        let clock = ContinuousClock()
        while true {
            do { try await Task.sleep(for: Self.sweepInterval) } catch { return }
            sweep(now: clock.now)
        }
    }
}

/// Set once the pool has handed over a connection.
package final class LeaseFlag: Sendable {
    package let value = Atomic<Bool>(false)

    package init() {}
}
