package import Foundation
import SwitchyardRuntime

/// Where an order is. `placed` once stored; `shipped` when fulfillment reports it (events).
package enum OrderStatus: String, Sendable, Hashable, CaseIterable {
    case placed
    case shipped
}

/// One line of an order: units of a SKU at a unit price.
package struct OrderLine: Sendable, Hashable {
    package var sku: String
    package var quantity: Int
    package var unitPriceCents: Int64

    package init(sku: String, quantity: Int, unitPriceCents: Int64) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceCents = unitPriceCents
    }

    /// quantity × unit price. Validation bounds both, so this cannot overflow.
    package var totalCents: Int64 { Int64(quantity) * unitPriceCents }
}

/// A stored order.
package struct Order: Sendable, Hashable {
    package var id: String
    package var customerID: String
    package var status: OrderStatus
    /// In the order the customer gave them.
    package var lines: [OrderLine]
    package var totalCents: Int64
    package var createdAt: Date
    /// When the order was marked shipped; nil while it is `placed`.
    package var shippedAt: Date?

    package init(id: String, customerID: String, status: OrderStatus, lines: [OrderLine], totalCents: Int64, createdAt: Date, shippedAt: Date? = nil) {
        self.id = id
        self.customerID = customerID
        self.status = status
        self.lines = lines
        self.totalCents = totalCents
        self.createdAt = createdAt
        self.shippedAt = shippedAt
    }
}

/// One page of a customer's orders, newest first.
package struct OrdersPage: Sendable, Hashable {
    package var orders: [Order]
    /// Where the next page starts; `nil` on the last page.
    package var next: OrderCursor?

    package init(orders: [Order], next: OrderCursor?) {
        self.orders = orders
        self.next = next
    }
}

/// A position in a customer's order list: orders sort by creation time, then id, newest first.
package struct OrderCursor: Sendable, Hashable {
    package var createdAtUnixMilliseconds: Int64
    package var orderID: String

    package init(createdAtUnixMilliseconds: Int64, orderID: String) {
        self.createdAtUnixMilliseconds = createdAtUnixMilliseconds
        self.orderID = orderID
    }

    package init(after order: Order) {
        self.init(createdAtUnixMilliseconds: order.createdAt.unixMilliseconds, orderID: order.id)
    }
}
