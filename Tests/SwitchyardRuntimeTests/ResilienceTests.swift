import GRPCCore
import SwitchyardGRPCTransport
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

@Suite("Bulkhead")
struct BulkheadTests {
    @Test("Admits up to the limit, queues up to the queue limit, refuses the rest at once, and hands slots on in order")
    func limitsAndOrder() async throws {
        let bulkhead = Bulkhead(name: "downstream", maxConcurrent: 2, maxQueued: 2)
        // One gate per holder: releasing one slot at a time makes the order deterministic. With
        // both released at once, the two queued calls get their slots in order but then run side
        // by side, and which appends first is a race.
        let gates = [Latch(), Latch()]
        let order = OrderRecorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2 {
                group.addTask { try await bulkhead.run { await gates[index].wait(); order.append("holder-\(index)") } }
            }
            try await eventually("two calls in flight") { bulkhead.inFlight == 2 }
            group.addTask { try await bulkhead.run { order.append("queued-first") } }
            try await eventually("one call queued") { bulkhead.queued == 1 }
            group.addTask { try await bulkhead.run { order.append("queued-second") } }
            try await eventually("two calls queued") { bulkhead.queued == 2 }

            await #expect(throws: BulkheadError.full(name: "downstream", limit: 2)) {
                try await bulkhead.run { order.append("never") }
            }
            // One slot freed: the first queued call takes it, and only when it is done does the
            // second get a slot (holder-1 still holds the other).
            gates[0].open()
            try await eventually("both queued calls to run") { order.entries.count == 3 }
            gates[1].open()
            try await group.waitForAll()
        }
        #expect(bulkhead.inFlight == 0)
        #expect(bulkhead.queued == 0)
        let ran = order.entries
        #expect(ran == ["holder-0", "queued-first", "queued-second", "holder-1"])
    }

    @Test("A queued call gives up at its request deadline, and its place is freed")
    func deadlineWhileQueued() async throws {
        let bulkhead = Bulkhead(name: "downstream", maxConcurrent: 1, maxQueued: 1)
        let gate = Latch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bulkhead.run { await gate.wait() } }
            try await eventually("the slot to be taken") { bulkhead.inFlight == 1 }
            await #expect(throws: BulkheadError.timedOut(name: "downstream")) {
                try await RequestDeadline.withTimeout(.milliseconds(50)) {
                    try await bulkhead.run {}
                }
            }
            #expect(bulkhead.queued == 0)
            gate.open()
            try await group.waitForAll()
        }
        #expect(bulkhead.inFlight == 0)
    }

    @Test("A cancelled queued call leaves the queue")
    func cancelledWhileQueued() async throws {
        let bulkhead = Bulkhead(name: "downstream", maxConcurrent: 1, maxQueued: 4)
        let gate = Latch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bulkhead.run { await gate.wait() } }
            try await eventually("the slot to be taken") { bulkhead.inFlight == 1 }
            let waiter = Task { try await bulkhead.run {} }
            try await eventually("the call to queue") { bulkhead.queued == 1 }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(bulkhead.queued == 0)
            gate.open()
            try await group.waitForAll()
        }
        #expect(bulkhead.inFlight == 0)
    }
}

@Suite("Deadlines")
struct DeadlineTests {
    @Test("grpc-timeout values parse per the gRPC spec", arguments: [
        ("1H", Duration.seconds(3600)), ("2M", .seconds(120)), ("3S", .seconds(3)),
        ("250m", .milliseconds(250)), ("7u", .microseconds(7)), ("99999999n", .nanoseconds(99_999_999)),
    ])
    func parses(header: String, duration: Duration) {
        #expect(GRPCTimeoutHeader.parse(header) == duration)
    }

    @Test("Malformed grpc-timeout values are ignored", arguments: ["", "S", "10", "10x", "-5S", "123456789S", "1.5S"])
    func rejects(header: String) {
        #expect(GRPCTimeoutHeader.parse(header) == nil)
    }

    @Test("An inner scope can shorten a deadline but never extend it")
    func nesting() async {
        #expect(RequestDeadline.remaining == nil)
        await RequestDeadline.withTimeout(.seconds(1)) {
            let outer = RequestDeadline.remaining ?? .zero
            await RequestDeadline.withTimeout(.seconds(60)) {
                #expect((RequestDeadline.remaining ?? .zero) <= outer)
            }
            await RequestDeadline.withTimeout(.milliseconds(10)) {
                #expect((RequestDeadline.remaining ?? .seconds(1)) <= .milliseconds(10))
            }
        }
    }

    @Test("Downstream calls get what is left of the deadline")
    func callOptions() async {
        let policy = DownstreamCallPolicy(defaultTimeout: .seconds(2), bulkhead: Bulkhead(name: "d", maxConcurrent: 1, maxQueued: 0))
        #expect(policy.options().timeout == .seconds(2))
        #expect(policy.options().waitForReady == false)
        await RequestDeadline.withTimeout(.milliseconds(300)) {
            let timeout = policy.options().timeout ?? .zero
            #expect(timeout <= .milliseconds(300))
            #expect(timeout > .zero)
        }
    }

    @Test("With a transport that enforces timeouts, a call's timeout goes to the transport and not to grpc-swift")
    func transportTimeouts() async throws {
        let transport = DownstreamCallPolicy(defaultTimeout: .seconds(2), bulkhead: Bulkhead(name: "t", maxConcurrent: 1, maxQueued: 0), timeouts: .transport)
        let seen = try await RequestDeadline.withTimeout(.milliseconds(300)) {
            try await transport.call(idempotent: false) { options in (options.timeout, TransportCallTimeout.current) }
        }
        // No CallOptions timeout: grpc-swift would start a timer task of its own for one.
        #expect(seen.0 == nil)
        let given = try #require(seen.1)
        #expect(given <= .milliseconds(300) && given > .zero)

        let grpcSwift = DownstreamCallPolicy(defaultTimeout: .seconds(2), bulkhead: Bulkhead(name: "g", maxConcurrent: 1, maxQueued: 0))
        let other = try await grpcSwift.call(idempotent: false) { options in (options.timeout, TransportCallTimeout.current) }
        #expect(other.0 == .seconds(2))
        #expect(other.1 == nil)
    }
}

@Suite("Retries")
struct RetryTests {
    private let policy = DownstreamCallPolicy(
        defaultTimeout: .seconds(2),
        retry: RetryBackoff(maxAttempts: 3, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20), multiplier: 2),
        bulkhead: Bulkhead(name: "d", maxConcurrent: 4, maxQueued: 4)
    )

    /// Runs `policy.call` with a body that fails with `code` its first `failures` times.
    private func attempts(idempotent: Bool, failing code: RPCError.Code, failures: Int) async -> (attempts: Int, succeeded: Bool) {
        let count = OrderRecorder()
        let result: Bool
        do {
            _ = try await policy.call(idempotent: idempotent) { _ in
                count.append("attempt")
                if count.entries.count <= failures { throw RPCError(code: code, message: "down") }
                return 1
            }
            result = true
        } catch {
            result = false
        }
        return (count.entries.count, result)
    }

    @Test("Idempotent calls are retried on UNAVAILABLE, up to the attempt limit")
    func retriesIdempotent() async {
        #expect(await attempts(idempotent: true, failing: .unavailable, failures: 2) == (3, true))
        #expect(await attempts(idempotent: true, failing: .unavailable, failures: 5) == (3, false))
    }

    @Test("Calls that are not idempotent, and other codes, are never retried")
    func noRetry() async {
        #expect(await attempts(idempotent: false, failing: .unavailable, failures: 1) == (1, false))
        #expect(await attempts(idempotent: true, failing: .deadlineExceeded, failures: 1) == (1, false))
        #expect(await attempts(idempotent: true, failing: .internalError, failures: 1) == (1, false))
    }

    @Test("No retry starts once the deadline cannot cover its pause")
    func deadlineStopsRetries() async {
        let slow = DownstreamCallPolicy(
            defaultTimeout: .seconds(2),
            retry: RetryBackoff(maxAttempts: 5, initialBackoff: .seconds(10), maxBackoff: .seconds(10), multiplier: 1),
            bulkhead: Bulkhead(name: "d", maxConcurrent: 1, maxQueued: 0)
        )
        let count = OrderRecorder()
        await RequestDeadline.withTimeout(.milliseconds(100)) {
            _ = try? await slow.call(idempotent: true) { _ -> Int in
                count.append("attempt")
                throw RPCError(code: .unavailable, message: "down")
            }
        }
        // The pause is random up to 10 s: with 100 ms left at most a lucky short one fits.
        #expect(count.entries.count <= 2)
    }

    @Test("Backoff is jittered below an exponential, capped ceiling", arguments: [2, 3, 4, 10])
    func backoff(attempt: Int) {
        let backoff = RetryBackoff(maxAttempts: 10, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(500), multiplier: 2)
        let ceiling = min(Duration.milliseconds(50) * (1 << (attempt - 2)), .milliseconds(500))
        for _ in 0..<50 {
            let delay = backoff.delay(beforeAttempt: attempt)
            #expect(delay >= .zero)
            #expect(delay <= ceiling)
        }
    }
}

/// Records the order things happened in, across tasks.
final class OrderRecorder: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ entry: String) { state.withLock { $0.append(entry) } }
    var entries: [String] { state.withLock { $0 } }
}

import Synchronization
