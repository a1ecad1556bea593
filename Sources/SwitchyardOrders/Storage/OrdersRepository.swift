/// An order as stored with its idempotency key's fingerprint.
package struct StoredPlacement: Sendable, Hashable {
    package var order: Order
    package var fingerprint: String

    package init(order: Order, fingerprint: String) {
        self.order = order
        self.fingerprint = fingerprint
    }
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

    /// Stores a new order under `idempotencyKey` in one transaction (the outbox row joins it
    /// when events arrive). Never overwrites: an existing key is reported, not replaced.
    func insert(_ order: Order, idempotencyKey: String, fingerprint: String) async throws -> OrderInsertOutcome

    /// A customer's orders, newest first, starting after `cursor`.
    func orders(customerID: String, after cursor: OrderCursor?, limit: Int) async throws -> OrdersPage
}
