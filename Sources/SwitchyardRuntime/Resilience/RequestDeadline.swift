/// The deadline of the request being served, carried in a task local so that every downstream
/// call made while serving it can inherit what is left of it, without handler code passing
/// it along. Set at the edge (the gateway, from its per-request timeout) and on each gRPC
/// server (from the caller's `grpc-timeout`, by `DeadlinePropagationInterceptor`).
package enum RequestDeadline {
    @TaskLocal package static var current: ContinuousClock.Instant?

    /// The time left before the current deadline, or `nil` when there is none. Never negative.
    package static var remaining: Duration? {
        guard let current else { return nil }
        let left = current - ContinuousClock.now
        return left > .zero ? left : .zero
    }

    /// Runs `body` with a deadline `timeout` from now, or the current one if that is sooner:
    /// an inner scope can shorten a deadline but never extend it.
    package static func withTimeout<Result>(
        _ timeout: Duration,
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        let proposed = ContinuousClock.now.advanced(by: timeout)
        let effective = current.map { min($0, proposed) } ?? proposed
        return try await $current.withValue(effective, operation: body)
    }
}

/// The `grpc-timeout` header: an ASCII integer of at most 8 digits and a unit
/// (H, M, S, m, u, n), as in the gRPC over HTTP/2 protocol.
package enum GRPCTimeoutHeader {
    package static let name = "grpc-timeout"

    /// The duration `value` encodes, or `nil` if it is malformed.
    package static func parse(_ value: String) -> Duration? {
        guard let unit = value.last, value.count >= 2, value.count <= 9 else { return nil }
        guard let amount = Int64(value.dropLast()), amount >= 0 else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}
