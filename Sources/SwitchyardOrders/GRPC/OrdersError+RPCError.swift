package import GRPCCore
import SwitchyardRuntime

/// The one place orders errors become gRPC statuses; exhaustive, so a new case needs a code.
extension OrdersError: RPCErrorConvertible {
    package var rpcErrorCode: RPCError.Code {
        switch self {
        case .invalidArgument, .unknownSKUs: .invalidArgument
        case .insufficientStock: .failedPrecondition
        case .idempotencyKeyReused: .alreadyExists
        case .orderNotFound: .notFound
        case .inventoryUnavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        }
    }

    package var rpcErrorMessage: String { description }

    package var rpcErrorMetadata: Metadata {
        switch self {
        case .idempotencyKeyReused: ErrorReason.idempotencyKeyReused.metadata
        default: [:]
        }
    }
}
