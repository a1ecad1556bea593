package import Foundation

/// The inventory's storage seam. Every implementation makes each call atomic: a reservation
/// takes all its lines or none, and concurrent calls never drive a quantity below zero.
/// `InMemoryInventoryRepository` and `SQLiteInventoryRepository` pass the same conformance
/// suite (Tests/SwitchyardInventoryTests/InventoryRepositoryConformanceTests.swift).
package protocol InventoryRepository: Sendable {
    /// The stock of one SKU, or `nil` when the catalogue does not have it.
    func stock(sku: String) async throws -> StockLevel?

    /// Up to `limit` SKUs after `afterSKU` (all SKUs when `nil`), ordered by SKU.
    func listStock(after afterSKU: String?, limit: Int) async throws -> StockPage

    /// Adds the SKUs that are missing with the given quantities; existing SKUs keep theirs,
    /// so seeding on every start never undoes sales.
    func seed(_ catalogue: [StockLevel]) async throws

    /// Reserves every line of `request` or nothing.
    ///
    /// An order that already has a reservation gets it back unchanged (`created == false`)
    /// when the lines match, or when its release was recorded first.
    /// - Throws: `InventoryError.unknownSKUs`, `.insufficientStock` or `.reservationConflict`.
    func reserve(_ request: ReservationRequest, now: Date) async throws -> ReservationOutcome

    /// Marks a reservation confirmed. Confirming twice is fine.
    /// - Throws: `.reservationNotFound`, or `.reservationTransitionNotAllowed` when released or expired.
    func confirm(orderID: String) async throws -> Reservation

    /// `confirm`, on behalf of an event: records `eventID` for `group` in the inbox in the same
    /// transaction, and returns `nil` (changing nothing) when that event was applied before.
    func confirm(orderID: String, forEvent eventID: String, group: String) async throws -> Reservation?

    /// Returns a reservation's units to stock. Releasing twice is fine; releasing an order
    /// without a reservation records the release, so a reservation arriving later changes nothing.
    /// - Throws: `.reservationTransitionNotAllowed` when confirmed.
    func release(orderID: String, now: Date) async throws -> Reservation

    /// Expires every `reserved` reservation whose deadline is at or before `now`, returning
    /// its units; answers the expired order ids.
    func expireReservations(now: Date) async throws -> [String]

    /// One reservation, or `nil`.
    func reservation(orderID: String) async throws -> Reservation?

    /// Reservations still holding stock (`reserved`: neither confirmed, released nor expired).
    func outstandingReservations() async throws -> Int
}

/// The rules every repository applies inside its transaction, written once so the in-memory
/// and SQL implementations cannot drift apart.
package enum ReservationRules {
    /// Decides what a repeated `reserve` for an order returns.
    /// - Returns: the existing reservation when the call must change nothing.
    /// - Throws: `.reservationConflict` when the order holds different lines.
    package static func existingOutcome(
        of existing: Reservation,
        for request: ReservationRequest
    ) throws(InventoryError) -> ReservationOutcome {
        // A release recorded before the reservation arrived has no lines: the late
        // reservation must not take stock for an order that is already given up.
        if existing.lines.isEmpty || existing.lines == request.lines {
            return ReservationOutcome(reservation: existing, created: false)
        }
        throw .reservationConflict(orderID: request.orderID)
    }

    /// Checks the requested lines against current stock; `available` returns `nil` for an
    /// unknown SKU.
    package static func checkAvailability(
        of request: ReservationRequest,
        available: (String) throws -> Int?
    ) throws -> Void {
        var unknown: [String] = []
        var shortages: [InventoryError.Shortage] = []
        for line in request.lines {
            guard let quantity = try available(line.sku) else {
                unknown.append(line.sku)
                continue
            }
            if quantity < line.quantity {
                shortages.append(.init(sku: line.sku, requested: line.quantity, available: quantity))
            }
        }
        if !unknown.isEmpty { throw InventoryError.unknownSKUs(unknown) }
        if !shortages.isEmpty { throw InventoryError.insufficientStock(shortages) }
    }

    /// The status after a confirm, or the error explaining why there is none.
    package static func confirmed(_ reservation: Reservation) throws(InventoryError) -> ReservationStatus {
        switch reservation.status {
        case .reserved, .confirmed:
            return .confirmed
        case .released, .expired:
            throw .reservationTransitionNotAllowed(orderID: reservation.orderID, from: reservation.status, to: .confirmed)
        }
    }

    /// Whether a release must give units back (`true`), changes nothing (`false`), or is refused.
    package static func releaseReturnsStock(_ reservation: Reservation) throws(InventoryError) -> Bool {
        switch reservation.status {
        case .reserved:
            return true
        case .released, .expired:
            return false
        case .confirmed:
            throw .reservationTransitionNotAllowed(orderID: reservation.orderID, from: .confirmed, to: .released)
        }
    }
}
