/// `order.placed`: an order was accepted and stored. The article's contract, exactly: the body
/// is `{"orderId", "customerId", "totalCents", "occurredAt"}` and nothing else. Published by
/// orders; consumed by fulfillment (ships it) and inventory (confirms its reservation).
package struct OrderPlaced: EventContract {
    package static let type = "order.placed"

    package var orderId: String
    package var customerId: String
    package var totalCents: Int64
    package var occurredAt: String

    package init(orderId: String, customerId: String, totalCents: Int64, occurredAt: String) {
        self.orderId = orderId
        self.customerId = customerId
        self.totalCents = totalCents
        self.occurredAt = occurredAt
    }
}
