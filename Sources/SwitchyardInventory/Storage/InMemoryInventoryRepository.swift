package import Foundation
import Synchronization

/// An `InventoryRepository` in memory: the reference the SQL implementations are held to by the
/// conformance suite, and a fast stand-in for tests of other layers.
package final class InMemoryInventoryRepository: InventoryRepository {
    private struct State {
        var stock: [String: Int] = [:]
        var reservations: [String: Reservation] = [:]
        var inbox: Set<String> = []
    }

    private let state = Mutex(State())

    package init(stock: [StockLevel] = []) {
        state.withLock { state in
            for level in stock { state.stock[level.sku] = level.quantity }
        }
    }

    package func stock(sku: String) async throws -> StockLevel? {
        state.withLock { state in state.stock[sku].map { StockLevel(sku: sku, quantity: $0) } }
    }

    package func listStock(after afterSKU: String?, limit: Int) async throws -> StockPage {
        state.withLock { state in
            let skus = state.stock.keys.filter { sku in afterSKU.map { sku > $0 } ?? true }.sorted()
            let page = skus.prefix(limit).map { StockLevel(sku: $0, quantity: state.stock[$0] ?? 0) }
            return StockPage(items: page, lastSKU: skus.count > limit ? page.last?.sku : nil)
        }
    }

    package func seed(_ catalogue: [StockLevel]) async throws {
        state.withLock { state in
            for level in catalogue where state.stock[level.sku] == nil {
                state.stock[level.sku] = level.quantity
            }
        }
    }

    package func reserve(_ request: ReservationRequest, now: Date) async throws -> ReservationOutcome {
        try state.withLock { state in
            if let existing = state.reservations[request.orderID] {
                return try ReservationRules.existingOutcome(of: existing, for: request)
            }
            try ReservationRules.checkAvailability(of: request) { state.stock[$0] }
            for line in request.lines {
                state.stock[line.sku, default: 0] -= line.quantity
            }
            let reservation = Reservation(
                orderID: request.orderID,
                status: .reserved,
                lines: request.lines,
                createdAt: now,
                expiresAt: now.addingTimeInterval(request.timeToLive.timeInterval)
            )
            state.reservations[request.orderID] = reservation
            return ReservationOutcome(reservation: reservation, created: true)
        }
    }

    package func confirm(orderID: String) async throws -> Reservation {
        try state.withLock { state in
            guard var reservation = state.reservations[orderID] else {
                throw InventoryError.reservationNotFound(orderID: orderID)
            }
            reservation.status = try ReservationRules.confirmed(reservation)
            state.reservations[orderID] = reservation
            return reservation
        }
    }

    package func confirm(orderID: String, forEvent eventID: String, group: String) async throws -> Reservation? {
        try state.withLock { state in
            guard var reservation = state.reservations[orderID] else {
                throw InventoryError.reservationNotFound(orderID: orderID)
            }
            let status = try ReservationRules.confirmed(reservation)
            guard state.inbox.insert("\(group)/\(eventID)").inserted else { return nil }
            reservation.status = status
            state.reservations[orderID] = reservation
            return reservation
        }
    }

    package func release(orderID: String, now: Date) async throws -> Reservation {
        try state.withLock { state in
            guard var reservation = state.reservations[orderID] else {
                let tombstone = Reservation(orderID: orderID, status: .released, lines: [], createdAt: now, expiresAt: now)
                state.reservations[orderID] = tombstone
                return tombstone
            }
            if try ReservationRules.releaseReturnsStock(reservation) {
                for line in reservation.lines { state.stock[line.sku, default: 0] += line.quantity }
                reservation.status = .released
                state.reservations[orderID] = reservation
            }
            return reservation
        }
    }

    package func expireReservations(now: Date) async throws -> [String] {
        state.withLock { state in
            let due = state.reservations.values
                .filter { $0.status == .reserved && $0.expiresAt <= now }
                .map(\.orderID)
                .sorted()
            for orderID in due {
                guard var reservation = state.reservations[orderID] else { continue }
                for line in reservation.lines { state.stock[line.sku, default: 0] += line.quantity }
                reservation.status = .expired
                state.reservations[orderID] = reservation
            }
            return due
        }
    }

    package func reservation(orderID: String) async throws -> Reservation? {
        state.withLock { $0.reservations[orderID] }
    }

    package func outstandingReservations() async throws -> Int {
        state.withLock { $0.reservations.values.filter { $0.status == .reserved }.count }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`, for `Date` arithmetic.
    package var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
