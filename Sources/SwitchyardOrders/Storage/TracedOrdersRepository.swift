package import Foundation
package import SwitchyardEventBus
import SwitchyardRuntime

/// An `OrdersRepository` whose every call is a database span, and whose outbox events carry
/// the trace that stored them (the CloudEvents distributed-tracing extension), on any engine.
/// The trace is read here, in the caller's task: SQLite transactions run on GRDB's queue,
/// where the caller's task-local context is gone.
package struct TracedOrdersRepository<Base: OrdersRepository>: OrdersRepository {
    package let base: Base
    private let spans: DatabaseSpans

    package init(_ base: Base, system: String) {
        self.base = base
        self.spans = DatabaseSpans(system: system, collection: "orders")
    }

    package func order(id: String) async throws -> Order? {
        try await spans.run("select") { try await base.order(id: id) }
    }

    package func placement(idempotencyKey: String) async throws -> StoredPlacement? {
        try await spans.run("select_placement") { try await base.placement(idempotencyKey: idempotencyKey) }
    }

    package func insert(_ order: Order, idempotencyKey: String, fingerprint: String, events: [EventEnvelope]) async throws -> OrderInsertOutcome {
        try await spans.run("insert") {
            let trace = TraceHeaders.current()
            return try await base.insert(order, idempotencyKey: idempotencyKey, fingerprint: fingerprint, events: events.map { $0.carrying(trace: trace) })
        }
    }

    package func markShipped(orderID: String, eventID: String, group: String, at shippedAt: Date) async throws -> ShipmentOutcome {
        try await spans.run("mark_shipped") { try await base.markShipped(orderID: orderID, eventID: eventID, group: group, at: shippedAt) }
    }

    package func orders(customerID: String, after cursor: OrderCursor?, limit: Int) async throws -> OrdersPage {
        try await spans.run("select_by_customer") { try await base.orders(customerID: customerID, after: cursor, limit: limit) }
    }
}
