import Foundation
package import Logging
import SwitchyardContracts
package import SwitchyardEventBus

/// Fulfillment's consumer group `fulfillment`: for each `order.placed`, logs
/// `Fulfilling order <id> for customer <id>` (the article's consumer), creates the order's
/// shipment, and publishes `shipment.dispatched` through its own outbox.
package struct FulfillmentOrderPlacedHandler: Sendable {
    package static var group: String { "fulfillment" }
    package static var topics: [String] { [OrderPlaced.type] }

    let repository: any ShipmentRepository
    let logger: Logger
    let afterCommit: @Sendable () -> Void

    package init(repository: any ShipmentRepository, logger: Logger, afterCommit: @escaping @Sendable () -> Void = {}) {
        self.repository = repository
        self.logger = logger
        self.afterCommit = afterCommit
    }

    package func handle(_ delivered: DeliveredEvent) async throws {
        let order = try delivered.decodePayload(OrderPlaced.decode)
        logger.info("Fulfilling order \(order.orderId) for customer \(order.customerId)")
        let shipment = try await repository.ship(
            orderID: order.orderId,
            customerID: order.customerId,
            eventID: delivered.envelope.id,
            group: Self.group,
            now: Date()
        ) { shipment in
            let payload = ShipmentDispatched(shipmentId: shipment.id, orderId: shipment.orderID, occurredAt: EventTime.string(shipment.createdAt))
            return [
                EventEnvelope(
                    type: ShipmentDispatched.type,
                    source: "/switchyard/fulfillment",
                    time: shipment.createdAt,
                    subject: shipment.orderID,
                    payload: try payload.encodedPayload()
                )
            ]
        }
        if shipment != nil { afterCommit() }
    }
}
