import Foundation
package import Logging
import SwitchyardContracts
package import SwitchyardEventBus

/// Orders' consumer group `orders`: `shipment.dispatched` marks the order shipped. The inbox
/// makes a redelivered event change nothing.
package struct ShipmentDispatchedHandler<Repository: OrdersRepository>: Sendable {
    package static var group: String { "orders" }
    package static var topics: [String] { [ShipmentDispatched.type] }

    let repository: Repository
    let logger: Logger

    package init(repository: Repository, logger: Logger) {
        self.repository = repository
        self.logger = logger
    }

    package func handle(_ delivered: DeliveredEvent) async throws {
        let event = try delivered.decodePayload(ShipmentDispatched.decode)
        switch try await repository.markShipped(orderID: event.orderId, eventID: delivered.envelope.id, group: Self.group, at: Date()) {
        case .marked:
            logger.info("order shipped", metadata: ["switchyard.order.id": "\(event.orderId)", "switchyard.shipment.id": "\(event.shipmentId)"])
        case .alreadyApplied:
            logger.debug("shipment already applied", metadata: ["switchyard.event.id": "\(delivered.envelope.id)"])
        case .orderNotFound:
            // An order placed and shipped must exist here; if it does not yet (a restore, a
            // lag), retrying is right, and after the attempts it is a dead letter to look at.
            throw OrderNotFoundForShipment(orderID: event.orderId)
        }
    }
}

struct OrderNotFoundForShipment: Error, CustomStringConvertible {
    var orderID: String
    var description: String { "shipment.dispatched for order \(orderID), which does not exist" }
}
