package import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
package import SwitchyardRuntime

/// `StockReservations` over the inventory service's gRPC API. Reservations are keyed by order
/// id, so both calls are idempotent and may be retried (`DownstreamCallPolicy`).
package struct GRPCStockReservations<Transport: ClientTransport>: StockReservations {
    private let inventory: Inventory_Inventory.Client<Transport>
    private let policy: DownstreamCallPolicy

    package init(client: GRPCClient<Transport>, policy: DownstreamCallPolicy) {
        self.inventory = Inventory_Inventory.Client(wrapping: client)
        self.policy = policy
    }

    package func reserve(orderID: String, lines: [OrderLine]) async throws {
        let request = Inventory_ReserveStockRequest.with { request in
            request.orderID = orderID
            request.lines = lines.map { line in
                Inventory_ReservationLine.with {
                    $0.sku = line.sku
                    $0.quantity = Int32(clamping: line.quantity)
                }
            }
        }
        let response: Inventory_ReservationResponse
        do {
            response = try await policy.call(idempotent: true) { options in
                try await inventory.reserveStock(request, options: options)
            }
        } catch let error as RPCError {
            throw Self.reservationError(error)
        }
        // A reservation that was released or expired before this call (a release raced ahead
        // of it) holds nothing: the order must not be placed on it.
        switch response.reservation.status {
        case .reserved, .confirmed:
            return
        default:
            throw StockReservationError.notHeld("the reservation for \(orderID) is \(response.reservation.status) and holds no stock")
        }
    }

    package func release(orderID: String) async throws {
        let request = Inventory_ReservationRequest.with { $0.orderID = orderID }
        _ = try await policy.call(idempotent: true) { options in
            try await inventory.releaseReservation(request, options: options)
        }
    }

    /// Inventory's statuses in orders' terms.
    static func reservationError(_ error: RPCError) -> StockReservationError {
        switch error.code {
        case .failedPrecondition: .insufficientStock(error.message)
        case .notFound: .unknownSKUs(error.message)
        case .deadlineExceeded: .deadlineExceeded(error.message)
        case .invalidArgument, .alreadyExists: .rejected(error.message)
        default: .unavailable("\(error.code): \(error.message)")
        }
    }
}
