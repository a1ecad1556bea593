package import GRPCCore
package import SwitchyardContracts

/// An inventory that accepts every call and never answers, to test deadlines and bulkheads
/// against a dependency that hangs. Each call ends only when gRPC cancels it (its deadline
/// passes or the client goes away), as a grpc-swift handler stuck on a downstream call does.
package struct HangingInventoryService: Inventory_Inventory.SimpleServiceProtocol {
    package init() {}

    private func hang<T>(_ context: ServerContext) async throws -> T {
        try await context.cancellation.cancelled
        throw RPCError(code: .cancelled, message: "the call was cancelled while inventory hung")
    }

    package func getStock(request: Inventory_StockRequest, context: ServerContext) async throws -> Inventory_StockResponse { try await hang(context) }
    package func listStock(request: Inventory_ListStockRequest, context: ServerContext) async throws -> Inventory_ListStockResponse { try await hang(context) }
    package func reserveStock(request: Inventory_ReserveStockRequest, context: ServerContext) async throws -> Inventory_ReservationResponse { try await hang(context) }
    package func confirmReservation(request: Inventory_ReservationRequest, context: ServerContext) async throws -> Inventory_ReservationResponse { try await hang(context) }
    package func releaseReservation(request: Inventory_ReservationRequest, context: ServerContext) async throws -> Inventory_ReservationResponse { try await hang(context) }
    package func expireReservations(request: Inventory_ExpireReservationsRequest, context: ServerContext) async throws -> Inventory_ExpireReservationsResponse { try await hang(context) }
    package func getReservation(request: Inventory_ReservationRequest, context: ServerContext) async throws -> Inventory_ReservationResponse { try await hang(context) }
}
