import GRPCCore
import Hummingbird
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime

/// `/inventory`: every SKU with its quantity, a page at a time, and one SKU.
struct InventoryRoutes<Context: RequestContext>: Sendable {
    let downstreams: GatewayDownstreams

    func register(on router: Router<Context>) {
        router.get("/inventory", use: list)
        router.get("/inventory/{sku}", use: stock)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        var listRequest = Inventory_ListStockRequest()
        if let size = request.uri.queryParameters.get("pageSize") {
            guard let pageSize = Int32(size), pageSize > 0 else {
                throw APIError.badRequest("pageSize must be a positive integer, got '\(size)'")
            }
            listRequest.pageSize = pageSize
        }
        listRequest.pageToken = request.uri.queryParameters.get("pageToken") ?? ""
        let page = try await downstreams.inventoryPolicy.call(idempotent: true) { options in
            try await downstreams.inventory.listStock(listRequest, options: options)
        }
        return try JSONBody.response(StockPage(
            items: page.items.map { StockItem(sku: $0.sku, quantity: $0.quantity) },
            nextPageToken: page.nextPageToken.isEmpty ? nil : page.nextPageToken
        ))
    }

    @Sendable func stock(_ request: Request, context: Context) async throws -> Response {
        let sku = try context.parameters.require("sku")
        let level = try await downstreams.inventoryPolicy.call(idempotent: true) { options in
            try await downstreams.inventory.getStock(.with { $0.sku = sku }, options: options)
        }
        return try JSONBody.response(StockItem(sku: level.sku, quantity: level.quantity))
    }
}
