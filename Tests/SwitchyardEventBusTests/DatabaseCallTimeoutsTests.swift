import Synchronization
import SwitchyardStorage
import SwitchyardTestSupport
import Testing

@Suite("PostgreSQL call timeouts, enforced by one sweep")
struct DatabaseCallTimeoutsTests {
    /// Which limit each call broke, by name.
    final class Expiries: Sendable {
        let broken = Mutex<[String: DatabaseCallTimeouts.Limit]>([:])
        func record(_ name: String) -> @Sendable (DatabaseCallTimeouts.Limit) -> Void {
            { limit in self.broken.withLock { $0[name] = limit } }
        }
    }

    @Test("A call without a connection by its acquire deadline expires; one with a connection runs on to its call deadline; a forgotten call never expires")
    func limits() {
        let timeouts = DatabaseCallTimeouts()
        let expiries = Expiries()
        let start = ContinuousClock.now
        let waiting = LeaseFlag()
        let leased = LeaseFlag()
        leased.value.store(true, ordering: .relaxed)
        let finished = LeaseFlag()
        _ = timeouts.watch(.init(acquireDeadline: start + .seconds(1), callDeadline: start + .seconds(30), leased: waiting, expire: expiries.record("waiting")))
        _ = timeouts.watch(.init(acquireDeadline: start + .seconds(1), callDeadline: start + .seconds(30), leased: leased, expire: expiries.record("leased")))
        let done = timeouts.watch(.init(acquireDeadline: start + .seconds(1), callDeadline: start + .seconds(30), leased: finished, expire: expiries.record("finished")))
        timeouts.forget(done)

        timeouts.sweep(now: start + .milliseconds(999))
        #expect(expiries.broken.withLock { $0 }.isEmpty)

        timeouts.sweep(now: start + .seconds(1))
        #expect(expiries.broken.withLock { $0 } == ["waiting": .acquire])
        #expect(timeouts.count == 1)

        timeouts.sweep(now: start + .seconds(30))
        #expect(expiries.broken.withLock { $0 } == ["waiting": .acquire, "leased": .call])
        #expect(timeouts.count == 0)

        // Each call expires once, however often the sweep comes round.
        timeouts.sweep(now: start + .seconds(60))
        #expect(expiries.broken.withLock { $0 }.count == 2)
    }

    @Test("The sweep runs by itself until cancelled")
    func runs() async throws {
        let timeouts = DatabaseCallTimeouts()
        let expiries = Expiries()
        _ = timeouts.watch(.init(acquireDeadline: .now, callDeadline: .now + .seconds(30), leased: LeaseFlag(), expire: expiries.record("call")))
        let sweeper = Task { await timeouts.run() }
        defer { sweeper.cancel() }
        try await eventually("the sweep to expire the call") { expiries.broken.withLock { $0["call"] != nil } }
        #expect(timeouts.count == 0)
    }
}
