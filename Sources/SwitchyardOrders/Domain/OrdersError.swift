/// Everything a caller of the orders service can get wrong or run into. Mapped once to gRPC
/// codes in `OrdersError+RPCError.swift`; the gateway maps those to HTTP.
package enum OrdersError: Error, Hashable, CustomStringConvertible {
    /// A malformed request, naming the problem.
    case invalidArgument(String)
    /// SKUs the inventory does not know.
    case unknownSKUs(String)
    /// Not enough stock; the message names the short SKUs.
    case insufficientStock(String)
    /// The idempotency key was used before with a different request.
    case idempotencyKeyReused(String)
    case orderNotFound(String)
    /// Inventory could not be reached or did not answer in time; nothing was stored.
    case inventoryUnavailable(String)
    /// The request's deadline passed before the order could be placed; nothing was stored.
    case deadlineExceeded(String)

    package var description: String {
        switch self {
        case .invalidArgument(let message): message
        case .unknownSKUs(let message): message
        case .insufficientStock(let message): message
        case .idempotencyKeyReused(let key): "idempotency key \(key) was already used for a different order request"
        case .orderNotFound(let id): "order \(id) not found"
        case .inventoryUnavailable(let reason): "inventory is unavailable: \(reason)"
        case .deadlineExceeded(let reason): "deadline exceeded: \(reason)"
        }
    }
}
