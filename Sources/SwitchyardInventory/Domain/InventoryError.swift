/// Everything a caller of the inventory service can get wrong, or run into. Mapped once, to
/// gRPC codes, in `InventoryError+RPCError.swift`; the compiler makes every new case get a code.
package enum InventoryError: Error, Hashable, CustomStringConvertible {
    /// A malformed request: empty or oversized identifiers, bad quantities, a bad page token.
    case invalidArgument(String)
    /// SKUs the catalogue does not have.
    case unknownSKUs([String])
    /// Some lines asked for more than is available; nothing was reserved.
    case insufficientStock([Shortage])
    /// The order already holds a reservation with different lines.
    case reservationConflict(orderID: String)
    /// The order has no reservation.
    case reservationNotFound(orderID: String)
    /// The reservation is in a state that does not allow the transition.
    case reservationTransitionNotAllowed(orderID: String, from: ReservationStatus, to: ReservationStatus)

    /// One SKU that could not be reserved in full.
    package struct Shortage: Sendable, Hashable {
        package var sku: String
        package var requested: Int
        package var available: Int

        package init(sku: String, requested: Int, available: Int) {
            self.sku = sku
            self.requested = requested
            self.available = available
        }
    }

    package var description: String {
        switch self {
        case .invalidArgument(let message):
            return message
        case .unknownSKUs(let skus):
            return skus.count == 1 ? "unknown SKU: \(skus[0])" : "unknown SKUs: \(skus.joined(separator: ", "))"
        case .insufficientStock(let shortages):
            let parts = shortages.map { "\($0.sku) (requested \($0.requested), available \($0.available))" }
            return "insufficient stock for \(parts.joined(separator: ", "))"
        case .reservationConflict(let orderID):
            return "order \(orderID) already holds a reservation with different lines"
        case .reservationNotFound(let orderID):
            return "order \(orderID) has no reservation"
        case .reservationTransitionNotAllowed(let orderID, let from, let to):
            return "the reservation of order \(orderID) is \(from.rawValue) and cannot become \(to.rawValue)"
        }
    }
}
