package import Foundation
import SwitchyardRuntime

/// Units of one SKU held for an order.
package struct ReservationLine: Sendable, Hashable {
    package var sku: String
    package var quantity: Int

    package init(sku: String, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }
}

/// Where a reservation is in its life. Only `reserved` holds stock that can still come back;
/// the other three are final.
package enum ReservationStatus: String, Sendable, Hashable, CaseIterable {
    /// Units are out of stock and held for the order until it is confirmed, released or expires.
    case reserved
    /// The order shipped: the units are gone for good.
    case confirmed
    /// The units went back to stock on request (or the order never reserved anything).
    case released
    /// Nobody confirmed in time: the units went back to stock.
    case expired
}

/// The stock held for one order, keyed by its order id.
package struct Reservation: Sendable, Hashable {
    package var orderID: String
    package var status: ReservationStatus
    /// Sorted by SKU. Empty for a release recorded before any reservation arrived.
    package var lines: [ReservationLine]
    package var createdAt: Date
    package var expiresAt: Date

    package init(orderID: String, status: ReservationStatus, lines: [ReservationLine], createdAt: Date, expiresAt: Date) {
        self.orderID = orderID
        self.status = status
        self.lines = lines
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A validated request to reserve stock: built only through `ReservationRequest.validated`,
/// so repositories can trust every field.
package struct ReservationRequest: Sendable, Hashable {
    package let orderID: String
    /// Sorted by SKU, each SKU once, each quantity at least 1.
    package let lines: [ReservationLine]
    package let timeToLive: Duration

    package static let defaultTimeToLive: Duration = .seconds(15 * 60)
    package static let maximumTimeToLive: Duration = .seconds(7 * 24 * 3600)
    package static let maximumLines = 1000

    /// Checks a request as it arrived from a client.
    ///
    /// - Parameters:
    ///   - orderID: The idempotency key of the reservation.
    ///   - lines: SKUs and quantities, in any order.
    ///   - timeToLive: How long the units are held; `nil` means the default of 15 minutes.
    /// - Throws: `InventoryError.invalidArgument` describing the first problem found.
    package static func validated(
        orderID: String,
        lines: [ReservationLine],
        timeToLive: Duration?
    ) throws(InventoryError) -> ReservationRequest {
        try validateIdentifier(orderID, name: "order id")
        guard !lines.isEmpty else {
            throw .invalidArgument("a reservation needs at least one line")
        }
        guard lines.count <= maximumLines else {
            throw .invalidArgument("a reservation has at most \(maximumLines) lines, got \(lines.count)")
        }
        var seen = Set<String>()
        for line in lines {
            try validateIdentifier(line.sku, name: "SKU")
            guard line.quantity >= 1 else {
                throw .invalidArgument("quantity for \(line.sku) must be at least 1, got \(line.quantity)")
            }
            guard seen.insert(line.sku).inserted else {
                throw .invalidArgument("SKU \(line.sku) appears more than once; put its units on one line")
            }
        }
        let ttl = timeToLive ?? defaultTimeToLive
        guard ttl > .zero, ttl <= maximumTimeToLive else {
            throw .invalidArgument("time to live must be between 1 second and 7 days")
        }
        return ReservationRequest(
            orderID: orderID,
            lines: lines.sorted { $0.sku < $1.sku },
            timeToLive: ttl
        )
    }

    /// Rejects empty, oversized and non-printable identifiers, naming the field.
    package static func validateIdentifier(_ value: String, name: String) throws(InventoryError) {
        if let problem = IdentifierRules.problem(with: value, name: name) { throw .invalidArgument(problem) }
    }

    private init(orderID: String, lines: [ReservationLine], timeToLive: Duration) {
        self.orderID = orderID
        self.lines = lines
        self.timeToLive = timeToLive
    }
}

/// What `reserve` did: `created` is false when the order already had a reservation and the
/// call changed nothing.
package struct ReservationOutcome: Sendable, Hashable {
    package var reservation: Reservation
    package var created: Bool

    package init(reservation: Reservation, created: Bool) {
        self.reservation = reservation
        self.created = created
    }
}
