import Foundation

/// What a run measured.
package struct LoadResult: Sendable {
    package var target: String
    package var plan: LoadPlan
    /// Requests answered successfully, and their latency distribution (microseconds).
    package var sample: LatencySample
    /// The measured time, warm-up excluded.
    package var elapsed: Duration

    package var requests: UInt64 { sample.count }
    package var errors: UInt64 { sample.errors }

    /// Successful requests per second.
    package var rate: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(requests) / seconds : 0
    }
}

/// Runs a `LoadPlan` against a `LoadTarget`: opens one connection per worker, warms up, then
/// measures until the limit, and reports progress once a second.
package struct LoadRunner<Target: LoadTarget>: Sendable {
    package let target: Target
    package let plan: LoadPlan

    package init(target: Target, plan: LoadPlan) {
        self.target = target
        self.plan = plan
    }

    /// - Parameter progress: Called about once a second with the measured part so far.
    package func run(progress: @escaping @Sendable (LoadProgress) -> Void = { _ in }) async throws -> LoadResult {
        let workers = plan.mode.workers
        var connections: [Target.Connection] = []
        for _ in 0..<workers { connections.append(try await target.connect()) }
        let recorders = (0..<workers).map { _ in LatencyRecorder() }

        if plan.warmup > .zero {
            try await drive(connections: connections, recorders: recorders, limit: .duration(plan.warmup), progress: nil)
            for recorder in recorders { recorder.reset() }
        }
        let started = ContinuousClock.now
        try await drive(connections: connections, recorders: recorders, limit: plan.limit, progress: progress)
        let elapsed = ContinuousClock.now - started
        for connection in connections { await connection.close() }

        var total = LatencySample()
        for recorder in recorders { total.merge(recorder.snapshot) }
        return LoadResult(target: target.name, plan: plan, sample: total, elapsed: elapsed)
    }

    private func drive(
        connections: [Target.Connection],
        recorders: [LatencyRecorder],
        limit: LoadLimit,
        progress: (@Sendable (LoadProgress) -> Void)?
    ) async throws {
        let start = ContinuousClock.now
        let rate: Double? = if case .open(let rate, _) = plan.mode { rate } else { nil }
        let tickets = TicketDispenser(start: start, ratePerSecond: rate, limit: limit)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (connection, recorder) in zip(connections, recorders) {
                group.addTask {
                    while let ticket = tickets.next() {
                        if ticket.due > .now { try await Task.sleep(until: ticket.due) }
                        do {
                            try await connection.send(number: ticket.number)
                            recorder.record(.now - ticket.due)
                        } catch is CancellationError {
                            throw CancellationError()
                        } catch {
                            recorder.recordError(error)
                        }
                    }
                }
            }
            if let progress {
                group.addTask {
                    // Reports until cancelled, below, once the workers are done.
                    while true {
                        try await Task.sleep(for: .seconds(1))
                        var sample = LatencySample()
                        for recorder in recorders { sample.merge(recorder.snapshot) }
                        progress(LoadProgress(elapsed: .now - start, sample: sample))
                    }
                }
            }
            // The workers end on their own when the tickets run out; then stop the reporter.
            for _ in connections { try await group.next() }
            group.cancelAll()
        }
    }
}

/// A progress report: the measured part of the run so far.
package struct LoadProgress: Sendable {
    package var elapsed: Duration
    package var sample: LatencySample
}
