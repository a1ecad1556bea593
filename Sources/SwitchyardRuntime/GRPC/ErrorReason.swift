package import GRPCCore

/// A machine-readable reason carried beside a gRPC status, for the few errors whose code alone
/// is too coarse for the caller (the idea of google.rpc.ErrorInfo, as one trailer). The gateway
/// reads it to pick an HTTP status more precise than the code's.
package enum ErrorReason: String, Sendable, CaseIterable {
    /// An idempotency key came back with a different request than the one it first placed.
    case idempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"

    /// The trailer that carries the reason.
    package static let metadataKey = "switchyard-error-reason"

    /// This reason as error metadata.
    package var metadata: Metadata { [Self.metadataKey: .string(rawValue)] }

    /// The reason an error carries, if any.
    package init?(of error: RPCError) {
        guard let value = error.metadata[stringValues: Self.metadataKey].first(where: { _ in true }) else { return nil }
        self.init(rawValue: value)
    }
}
