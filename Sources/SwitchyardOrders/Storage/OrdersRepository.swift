package import Foundation
package import SwitchyardEventBus

/// An order as stored with its idempotency key's fingerprint.
package struct StoredPlacement: Sendable, Hashable {
    package var order: Order
    package var fingerprint: String

    package init(order: Order, fingerprint: String) {
        self.order = order
        self.fingerprint = fingerprint
    }
}

/// What applying a shipment to an order did.
package enum ShipmentOutcome: Sendable, Hashable {
    case marked
    /// This event was applied before (a redelivery): nothing changed.
    case alreadyApplied
    case orderNotFound
}

/// What storing a new order did.
package enum OrderInsertOutcome: Sendable, Hashable {
    case inserted
    /// The idempotency key already had an order (another replica won a race); nothing changed.
    case keyAlreadyUsed(StoredPlacement)
}

/// The orders service's storage seam. `InMemoryOrdersRepository` and `SQLiteOrdersRepository`
/// pass the same conformance suite (Tests/SwitchyardOrdersTests).
package protocol OrdersRepository: Sendable {
    func order(id: String) async throws -> Order?

    /// The order an idempotency key placed, with the request fingerprint it was placed with.
    func placement(idempotencyKey: String) async throws -> StoredPlacement?

    /// Stores a new order under `idempotencyKey` and queues `events` in the outbox, all in one
    /// transaction: the events are published if and only if the order is stored. Never
    /// overwrites: an existing key is reported (and nothing is queued).
    func insert(_ order: Order, idempotencyKey: String, fingerprint: String, events: [EventEnvelope]) async throws -> OrderInsertOutcome

    /// Marks an order shipped at `shippedAt`, recording `eventID` for `group` in the inbox in
    /// the same transaction, so a redelivered event changes nothing.
    func markShipped(orderID: String, eventID: String, group: String, at shippedAt: Date) async throws -> ShipmentOutcome

    /// A customer's orders, newest first, starting after `cursor`.
    func orders(customerID: String, after cursor: OrderCursor?, limit: Int) async throws -> OrdersPage
}
