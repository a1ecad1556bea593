package import GRPCCore

/// How this process calls one downstream service: how long a call may take when no request
/// deadline says otherwise, whether and how idempotent calls are retried, and the bulkhead
/// that bounds the calls in flight.
///
/// Retries use grpc-swift's own retry executor (exponential backoff with full jitter, as gRPC's
/// A6 design specifies) and only ever apply to calls the caller marks idempotent: reads, and
/// writes that carry an idempotency key.
package struct DownstreamCallPolicy: Sendable {
    /// The timeout of a call made outside any request deadline.
    package var defaultTimeout: Duration
    /// The retry policy for idempotent calls; `nil` disables retries.
    package var retry: RetryPolicy?
    package let bulkhead: Bulkhead

    package init(defaultTimeout: Duration = .seconds(2), retry: RetryPolicy? = DownstreamCallPolicy.standardRetry, bulkhead: Bulkhead) {
        self.defaultTimeout = defaultTimeout
        self.retry = retry
        self.bulkhead = bulkhead
    }

    /// Three attempts, 50 ms then 100 ms (each jittered), only for UNAVAILABLE: the server did
    /// not process the call, so trying again cannot apply it twice.
    package static let standardRetry = RetryPolicy(
        maxAttempts: 3,
        initialBackoff: .milliseconds(50),
        maxBackoff: .milliseconds(500),
        backoffMultiplier: 2,
        retryableStatusCodes: [.unavailable]
    )

    /// The call options for one call: what is left of the request deadline (or the default
    /// timeout), and the retry policy when `idempotent`.
    package func options(idempotent: Bool) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = RequestDeadline.remaining.map { min($0, defaultTimeout) } ?? defaultTimeout
        if idempotent, let retry {
            options.executionPolicy = .retry(retry)
        }
        return options
    }

    /// Runs one call inside the bulkhead with the options `options(idempotent:)` gives.
    /// A full bulkhead or a deadline passed while queueing surface as `RPCError`s
    /// (UNAVAILABLE and DEADLINE_EXCEEDED), like any other downstream failure.
    package func call<Result: Sendable>(
        idempotent: Bool,
        _ body: (CallOptions) async throws -> Result
    ) async throws -> Result {
        do {
            return try await bulkhead.run {
                // A call started with no time left can only fail: fail it here, without a
                // round trip that would take a slot from a call that can still succeed.
                if let remaining = RequestDeadline.remaining, remaining <= .zero {
                    throw RPCError(code: .deadlineExceeded, message: "the deadline passed before the call to \(bulkhead.name) could start")
                }
                return try await body(options(idempotent: idempotent))
            }
        } catch let error as BulkheadError {
            switch error {
            case .full: throw RPCError(code: .unavailable, message: error.description)
            case .timedOut: throw RPCError(code: .deadlineExceeded, message: error.description)
            }
        }
    }
}
