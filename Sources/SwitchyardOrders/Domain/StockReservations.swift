/// What orders needs from inventory: holding stock for an order and giving it back. The gRPC
/// adapter (`GRPCStockReservations`) speaks to the inventory service; tests use fakes.
package protocol StockReservations: Sendable {
    /// Holds every line's units for `orderID`, all or nothing. Safe to repeat for one order id.
    /// - Throws: `StockReservationError`.
    func reserve(orderID: String, lines: [OrderLine]) async throws

    /// Gives back whatever `orderID` holds; safe to repeat, and safe when it holds nothing.
    func release(orderID: String) async throws
}

/// Why a reservation failed, in the terms orders acts on.
package enum StockReservationError: Error, Hashable {
    /// Not enough units; the message names the SKUs.
    case insufficientStock(String)
    /// SKUs inventory does not know; the message names them.
    case unknownSKUs(String)
    /// The reservation exists but can no longer hold stock (released or expired meanwhile).
    case notHeld(String)
    /// Inventory is down or overloaded; the reservation may or may not have been made.
    case unavailable(String)
    /// The deadline passed; the reservation may or may not have been made.
    case deadlineExceeded(String)
    /// Inventory refused the request as malformed: a bug on our side, reported as-is.
    case rejected(String)
}
