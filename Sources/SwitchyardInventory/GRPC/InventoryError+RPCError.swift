package import GRPCCore

/// The one place inventory errors become gRPC statuses. The switch is exhaustive on purpose:
/// a new `InventoryError` case does not compile until it has a code.
extension InventoryError: RPCErrorConvertible {
    package var rpcErrorCode: RPCError.Code {
        switch self {
        case .invalidArgument: .invalidArgument
        case .unknownSKUs: .notFound
        case .insufficientStock: .failedPrecondition
        case .reservationConflict: .alreadyExists
        case .reservationNotFound: .notFound
        case .reservationTransitionNotAllowed: .failedPrecondition
        }
    }

    package var rpcErrorMessage: String { description }
}
