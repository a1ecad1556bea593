package import Logging
import SwitchyardContracts
package import SwitchyardEventBus

/// Inventory's consumer group `inventory`: `order.placed` confirms the order's reservation,
/// so its units are gone for good and no expiry returns them.
package struct OrderPlacedHandler<Repository: InventoryRepository>: Sendable {
    package static var group: String { "inventory" }
    package static var topics: [String] { [OrderPlaced.type] }

    let repository: Repository
    let logger: Logger

    package init(repository: Repository, logger: Logger) {
        self.repository = repository
        self.logger = logger
    }

    package func handle(_ delivered: DeliveredEvent) async throws {
        let event = try delivered.decodePayload(OrderPlaced.decode)
        do {
            if let reservation = try await repository.confirm(orderID: event.orderId, forEvent: delivered.envelope.id, group: Self.group) {
                logger.debug("reservation confirmed", metadata: ["switchyard.order.id": "\(reservation.orderID)"])
            }
        } catch let error as InventoryError {
            switch error {
            case .reservationTransitionNotAllowed:
                // The order was placed but its reservation is released or expired: its units
                // went back to stock and may have been sold. No retry fixes that; an operator
                // must look, so it goes to the dead letters at once.
                throw ReservationLost(orderID: event.orderId, reason: error.description)
            default:
                throw error
            }
        }
    }
}

/// An order was placed on a reservation that no longer holds its stock.
struct ReservationLost: UnretryableEventError, CustomStringConvertible {
    var orderID: String
    var reason: String
    var description: String { "order \(orderID) was placed but \(reason)" }
}
