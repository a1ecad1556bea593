/// Every event type Switchyard publishes, in one place. A type that is not listed here cannot
/// pass `switchyard lint contracts`, and every listed type must have its committed schema.
package enum EventCatalog {
    /// One declared event type.
    package struct Declaration: Sendable {
        package var type: String
        /// What produces it and why, for the docs.
        package var summary: String
        /// A representative instance: the lint validates its encoding against the schema.
        package var example: @Sendable () throws -> [UInt8]
    }

    package static let all: [Declaration] = [
        Declaration(
            type: OrderPlaced.type,
            summary: "orders: an order was accepted and stored",
            example: { try OrderPlaced(orderId: "ord_1", customerId: "c-1", totalCents: 4998, occurredAt: "2026-11-24T22:26:00.000Z").encodedPayload() }
        ),
        Declaration(
            type: ShipmentDispatched.type,
            summary: "fulfillment: an order's shipment left the warehouse",
            example: { try ShipmentDispatched(shipmentId: "shp_1", orderId: "ord_1", occurredAt: "2026-11-24T22:26:01.000Z").encodedPayload() }
        ),
    ]
}
