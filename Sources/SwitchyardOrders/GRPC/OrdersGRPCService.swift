import Foundation
package import GRPCCore
import SwiftProtobuf
package import SwitchyardContracts
import SwitchyardRuntime

/// `orders.Orders`: place, get and list orders. Handlers validate, delegate to the domain, and
/// throw `OrdersError`, which grpc-swift turns into a status via `OrdersError+RPCError.swift`.
package struct OrdersGRPCService<Repository: OrdersRepository, Reservations: StockReservations>: Orders_Orders.SimpleServiceProtocol {
    private let placement: OrderPlacement<Repository, Reservations>
    private let repository: Repository

    package static var defaultPageSize: Int { 50 }
    package static var maximumPageSize: Int { 500 }

    package init(placement: OrderPlacement<Repository, Reservations>, repository: Repository) {
        self.placement = placement
        self.repository = repository
    }

    package func placeOrder(request: Orders_PlaceOrderRequest, context: ServerContext) async throws -> Orders_PlaceOrderResponse {
        let command = try PlaceOrderCommand.validated(
            idempotencyKey: request.idempotencyKey,
            customerID: request.customerID,
            lines: request.lines.map { OrderLine(sku: $0.sku, quantity: Int($0.quantity), unitPriceCents: $0.unitPriceCents) }
        )
        let outcome = try await placement.place(command)
        return .with {
            $0.order = outcome.order.proto
            $0.created = outcome.created
        }
    }

    package func getOrder(request: Orders_GetOrderRequest, context: ServerContext) async throws -> Orders_Order {
        if let problem = IdentifierRules.problem(with: request.id, name: "order id") { throw OrdersError.invalidArgument(problem) }
        guard let order = try await repository.order(id: request.id) else {
            throw OrdersError.orderNotFound(request.id)
        }
        return order.proto
    }

    package func listOrders(request: Orders_ListOrdersRequest, context: ServerContext) async throws -> Orders_ListOrdersResponse {
        if let problem = IdentifierRules.problem(with: request.customerID, name: "customerId") { throw OrdersError.invalidArgument(problem) }
        guard request.pageSize >= 0 else { throw OrdersError.invalidArgument("page size must not be negative") }
        let limit = request.pageSize == 0 ? Self.defaultPageSize : min(Int(request.pageSize), Self.maximumPageSize)
        let page = try await repository.orders(customerID: request.customerID, after: try OrderPageToken.decode(request.pageToken), limit: limit)
        return .with { response in
            response.orders = page.orders.map(\.proto)
            response.nextPageToken = page.next.map(OrderPageToken.encode) ?? ""
        }
    }
}

/// Opaque page tokens for ListOrders: the cursor, base64url-encoded.
enum OrderPageToken {
    static func encode(_ cursor: OrderCursor) -> String {
        Base64URL.encode("\(cursor.createdAtUnixMilliseconds):\(cursor.orderID)")
    }

    static func decode(_ token: String) throws(OrdersError) -> OrderCursor? {
        guard !token.isEmpty else { return nil }
        guard
            let text = Base64URL.decode(token),
            let separator = text.firstIndex(of: ":"),
            let milliseconds = Int64(text[..<separator])
        else {
            throw .invalidArgument("page token is not one this server issued")
        }
        return OrderCursor(createdAtUnixMilliseconds: milliseconds, orderID: String(text[text.index(after: separator)...]))
    }
}
