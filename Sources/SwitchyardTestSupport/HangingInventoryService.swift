package import GRPCCore
package import SwitchyardContracts
import Synchronization

/// An inventory that accepts every call and never answers, to test deadlines and bulkheads
/// against a dependency that hangs. Each call ends only when gRPC cancels it (its deadline
/// passes or the client goes away), as a grpc-swift handler stuck on a downstream call does.
package final class HangingInventoryService: Inventory_Inventory.SimpleServiceProtocol, Sendable {
    private let counts = Mutex((arrived: 0, ended: 0))

    package init() {}

    /// Calls that reached the service so far.
    package var arrived: Int { counts.withLock { $0.arrived } }
    /// Calls that have ended (cancelled).
    package var ended: Int { counts.withLock { $0.ended } }

    private func hang<T>(_ context: ServerContext) async throws -> T {
        counts.withLock { $0.arrived += 1 }
        defer { counts.withLock { $0.ended += 1 } }
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
