package import Foundation
package import GRPCCore
import SwiftProtobuf
package import SwitchyardContracts
import SwitchyardRuntime

/// `inventory.Inventory`: the article's GetStock plus the reservation calls orders needs.
/// Handlers validate, call the repository, and throw `InventoryError`, which grpc-swift turns
/// into a status through `InventoryError+RPCError.swift`.
package struct InventoryGRPCService<Repository: InventoryRepository>: Inventory_Inventory.SimpleServiceProtocol {
    private let repository: Repository
    private let defaultTimeToLive: Duration
    private let now: @Sendable () -> Date

    package static var defaultPageSize: Int { 100 }
    package static var maximumPageSize: Int { 1000 }

    /// - Parameters:
    ///   - repository: Where stock and reservations live.
    ///   - defaultTimeToLive: How long a reservation holds when the request leaves it at 0.
    ///   - now: The clock reservations are stamped with.
    package init(
        repository: Repository,
        defaultTimeToLive: Duration = ReservationRequest.defaultTimeToLive,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.defaultTimeToLive = defaultTimeToLive
        self.now = now
    }

    package func getStock(request: Inventory_StockRequest, context: ServerContext) async throws -> Inventory_StockResponse {
        try ReservationRequest.validateIdentifier(request.sku, name: "SKU")
        guard let level = try await repository.stock(sku: request.sku) else {
            throw InventoryError.unknownSKUs([request.sku])
        }
        return level.proto
    }

    package func listStock(request: Inventory_ListStockRequest, context: ServerContext) async throws -> Inventory_ListStockResponse {
        guard request.pageSize >= 0 else {
            throw InventoryError.invalidArgument("page size must not be negative, got \(request.pageSize)")
        }
        let pageSize = request.pageSize == 0 ? Self.defaultPageSize : min(Int(request.pageSize), Self.maximumPageSize)
        let after = try PageToken.decode(request.pageToken)
        let page = try await repository.listStock(after: after, limit: pageSize)
        return .with { response in
            response.items = page.items.map(\.proto)
            response.nextPageToken = page.lastSKU.map(PageToken.encode) ?? ""
        }
    }

    package func reserveStock(request: Inventory_ReserveStockRequest, context: ServerContext) async throws -> Inventory_ReservationResponse {
        guard request.ttlSeconds >= 0 else {
            throw InventoryError.invalidArgument("ttl_seconds must not be negative, got \(request.ttlSeconds)")
        }
        let validated = try ReservationRequest.validated(
            orderID: request.orderID,
            lines: request.lines.map { ReservationLine(sku: $0.sku, quantity: Int($0.quantity)) },
            timeToLive: request.ttlSeconds == 0 ? defaultTimeToLive : .seconds(request.ttlSeconds)
        )
        let outcome = try await repository.reserve(validated, now: now())
        return .with { $0.reservation = outcome.reservation.proto }
    }

    package func confirmReservation(request: Inventory_ReservationRequest, context: ServerContext) async throws -> Inventory_ReservationResponse {
        try ReservationRequest.validateIdentifier(request.orderID, name: "order id")
        let reservation = try await repository.confirm(orderID: request.orderID)
        return .with { $0.reservation = reservation.proto }
    }

    package func releaseReservation(request: Inventory_ReservationRequest, context: ServerContext) async throws -> Inventory_ReservationResponse {
        try ReservationRequest.validateIdentifier(request.orderID, name: "order id")
        let reservation = try await repository.release(orderID: request.orderID, now: now())
        return .with { $0.reservation = reservation.proto }
    }

    package func expireReservations(request: Inventory_ExpireReservationsRequest, context: ServerContext) async throws -> Inventory_ExpireReservationsResponse {
        let expired = try await repository.expireReservations(now: now())
        return .with { $0.expiredOrderIds = expired }
    }

    package func getReservation(request: Inventory_ReservationRequest, context: ServerContext) async throws -> Inventory_ReservationResponse {
        try ReservationRequest.validateIdentifier(request.orderID, name: "order id")
        guard let reservation = try await repository.reservation(orderID: request.orderID) else {
            throw InventoryError.reservationNotFound(orderID: request.orderID)
        }
        return .with { $0.reservation = reservation.proto }
    }
}

/// Opaque page tokens: the last SKU of the previous page, base64url-encoded so clients treat
/// them as tokens rather than SKUs to edit.
enum PageToken {
    static func encode(_ lastSKU: String) -> String { Base64URL.encode(lastSKU) }

    static func decode(_ token: String) throws(InventoryError) -> String? {
        guard !token.isEmpty else { return nil }
        guard let sku = Base64URL.decode(token, maxLength: 256) else {
            throw .invalidArgument("page token is not one this server issued")
        }
        return sku
    }
}
