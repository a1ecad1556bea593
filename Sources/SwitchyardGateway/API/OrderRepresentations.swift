import Foundation
import SwiftProtobuf
import SwitchyardContracts

/// `POST /orders` body: `{"customerId": "...", "lines": [{"sku": "...", "quantity": n, "unitPriceCents": n}]}`.
struct PlaceOrderBody: Decodable, Sendable, Equatable {
    struct Line: Decodable, Sendable, Equatable {
        var sku: String
        var quantity: Int
        var unitPriceCents: Int64
    }

    var customerId: String
    var lines: [Line]

    func request(idempotencyKey: String) -> Orders_PlaceOrderRequest {
        .with { request in
            request.idempotencyKey = idempotencyKey
            request.customerID = customerId
            request.lines = lines.map { line in
                Orders_OrderLine.with {
                    $0.sku = line.sku
                    // Out-of-range quantities are clamped to values orders still refuses
                    // (negative, or over its maximum), so the refusal names the real problem.
                    $0.quantity = Int32(clamping: line.quantity)
                    $0.unitPriceCents = line.unitPriceCents
                }
            }
        }
    }
}

/// An order as `GET /orders/{id}` and `POST /orders` answer it.
struct OrderDetail: Encodable, Sendable {
    struct Line: Encodable, Sendable {
        var sku: String
        var quantity: Int32
        var unitPriceCents: Int64
    }

    var id: String
    var status: String
    var customerId: String
    var lines: [Line]
    var totalCents: Int64
    /// RFC 3339, UTC, milliseconds.
    var createdAt: String
    /// When the order was marked shipped (RFC 3339); absent while it is placed.
    var shippedAt: String?

    init(_ order: Orders_Order) {
        id = order.id
        status = order.status
        customerId = order.customerID
        lines = order.lines.map { Line(sku: $0.sku, quantity: $0.quantity, unitPriceCents: $0.unitPriceCents) }
        totalCents = order.totalCents
        createdAt = Self.timestamp(unixMilliseconds: order.createdAtUnixMs)
        shippedAt = order.shippedAtUnixMs > 0 ? Self.timestamp(unixMilliseconds: order.shippedAtUnixMs) : nil
    }

    private static func timestamp(unixMilliseconds: Int64) -> String {
        EventTime.string(unixMilliseconds: unixMilliseconds)
    }
}

/// `GET /inventory/{sku}`.
struct StockItem: Encodable, Sendable {
    var sku: String
    var quantity: Int32
}

/// `GET /inventory`.
struct StockPage: Encodable, Sendable {
    var items: [StockItem]
    /// Absent on the last page.
    var nextPageToken: String?
}
