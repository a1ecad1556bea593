import Foundation
import GRPCCore
import HTTPTypes
import Hummingbird
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime

/// `/orders`: the article's `GET /orders?id=`, its richer `GET /orders/{id}`, and placing
/// orders with `POST /orders` and an `Idempotency-Key`.
struct OrdersRoutes<Context: RequestContext>: Sendable {
    let downstreams: GatewayDownstreams
    let maxBodyBytes: Int

    func register(on router: Router<Context>) {
        router.get("/orders", use: lookUp)
        router.get("/orders/{id}", use: detail)
        router.post("/orders", use: place)
    }

    /// The article's contract, exactly: `{"id": "...", "status": "..."}`.
    @Sendable func lookUp(_ request: Request, context: Context) async throws -> Response {
        guard let id = request.uri.queryParameters.get("id"), !id.isEmpty else {
            throw APIError.badRequest("query parameter id is required, e.g. /orders?id=ord_123")
        }
        let order = try await fetch(id: id)
        // Written by hand: this is the hottest route, and the shape is fixed by contract.
        var json = #"{"id":"#
        JSONText.appendQuoted(order.id, to: &json)
        json += #","status":"#
        JSONText.appendQuoted(order.status, to: &json)
        json += "}"
        return JSONBody.rawResponse(json.utf8)
    }

    @Sendable func detail(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        return try JSONBody.response(OrderDetail(try await fetch(id: id)))
    }

    @Sendable func place(_ request: Request, context: Context) async throws -> Response {
        guard let key = request.headers[GatewayHeaders.idempotencyKey], !key.isEmpty else {
            throw APIError.badRequest("the Idempotency-Key header is required: choose a unique value per order and reuse it to retry")
        }
        let body = try await JSONBody.decode(PlaceOrderBody.self, from: request, maxBytes: maxBodyBytes)
        let placed = try await downstreams.ordersPolicy.call(idempotent: true) { options in
            try await downstreams.orders.placeOrder(body.request(idempotencyKey: key), options: options)
        }
        var headers: HTTPFields = [.location: "/orders/\(GatewayHeaders.pathSegment(placed.order.id))"]
        if !placed.created { headers[GatewayHeaders.idempotentReplayed] = "true" }
        return try JSONBody.response(OrderDetail(placed.order), status: .created, headers: headers)
    }

    private func fetch(id: String) async throws -> Orders_Order {
        let request = Orders_GetOrderRequest.with { $0.id = id }
        return try await downstreams.ordersPolicy.call(idempotent: true) { options in
            try await downstreams.orders.getOrder(request, options: options)
        }
    }
}

/// The gateway's own headers.
enum GatewayHeaders {
    /// Sent by clients on POST /orders: the same key means the same order.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key") ?? .contentType
    /// Answered with `true` when an earlier request with the key placed the order.
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed") ?? .contentType

    /// Order ids are ours (`ord_` + hex) and need no escaping; this keeps `Location` valid
    /// should that ever change.
    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}
