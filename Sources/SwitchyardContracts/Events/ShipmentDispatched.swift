/// `shipment.dispatched`: fulfillment sent an order's shipment. Consumed by orders, which marks
/// the order shipped.
package struct ShipmentDispatched: EventContract {
    package static let type = "shipment.dispatched"

    package var shipmentId: String
    package var orderId: String
    package var occurredAt: String

    package init(shipmentId: String, orderId: String, occurredAt: String) {
        self.shipmentId = shipmentId
        self.orderId = orderId
        self.occurredAt = occurredAt
    }
}
