import NIOCore
import SwitchyardGRPCTransport

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

/// The `grpc-timeout` header (parsed by the transport module, which enforces it), and the key
/// it reaches handlers under on each server transport.
package enum GRPCTimeoutHeader {
    package static let name = "grpc-timeout"

    /// Where a call's timeout is in its request metadata: the standard header on grpc-swift's
    /// transport, `switchyard-grpc-timeout` on Switchyard's (which enforces it itself).
    package static let metadataKeys = [name, SwitchyardHTTP2ServerTransport.deadlineMetadataKey]

    /// The duration `value` encodes, or `nil` if it is malformed.
    package static func parse(_ value: String) -> Duration? {
        GRPCTimeout.parse(value).map { .nanoseconds($0.nanoseconds) }
    }
}
