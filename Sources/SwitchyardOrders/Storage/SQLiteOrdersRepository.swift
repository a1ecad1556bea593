package import Foundation
package import GRDB
package import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardStorage

/// The orders service's own SQLite database (WAL: reads never wait for the writer).
package struct SQLiteOrdersRepository: OrdersRepository {
    private let database: DatabasePool

    /// - Parameter database: A pool opened with `SQLiteOrdersRepository.migrations`.
    package init(database: DatabasePool) {
        self.database = database
    }

    package static var migrations: DatabaseMigrator { OrdersMigrations.migrator }

    package func order(id: String) async throws -> Order? {
        try readOrderInPlace(id: id)
    }

    /// The hot path of GET /orders: two indexed reads, on the calling thread (a hop to GRDB's
    /// reader queue would cost more than the reads). Both in one `read`, which is one
    /// snapshot, so an order and its lines always match. The calling thread is an event loop:
    /// every other read of this pool is `readOffEventLoop`, or this one could wait forever.
    private func readOrderInPlace(id: String) throws -> Order? {
        try database.read { db in try Self.fetchOrder(db, id: id) }
    }

    package func placement(idempotencyKey: String) async throws -> StoredPlacement? {
        try await database.readOffEventLoop { db in try Self.fetchPlacement(db, idempotencyKey: idempotencyKey) }
    }

    package func insert(_ order: Order, idempotencyKey: String, fingerprint: String, events: [EventEnvelope]) async throws -> OrderInsertOutcome {
        try await database.write { db in
            if let existing = try Self.fetchPlacement(db, idempotencyKey: idempotencyKey) {
                return .keyAlreadyUsed(existing)
            }
            try db.execute(
                sql: """
                    INSERT INTO orders (id, customer_id, status, total_cents, created_at_ms, idempotency_key, request_fingerprint)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [order.id, order.customerID, order.status.rawValue, order.totalCents, order.createdAt.unixMilliseconds, idempotencyKey, fingerprint]
            )
            for (number, line) in order.lines.enumerated() {
                try db.execute(
                    sql: "INSERT INTO order_lines (order_id, line_number, sku, quantity, unit_price_cents) VALUES (?, ?, ?, ?, ?)",
                    arguments: [order.id, number, line.sku, line.quantity, line.unitPriceCents]
                )
            }
            try Outbox.enqueue(events, in: db)
            return .inserted
        }
    }

    package func markShipped(orderID: String, eventID: String, group: String, at shippedAt: Date) async throws -> ShipmentOutcome {
        try await database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM orders WHERE id = ?", arguments: [orderID]) != nil else {
                return .orderNotFound
            }
            guard try Inbox.record(eventID: eventID, group: group, in: db) else { return .alreadyApplied }
            try db.execute(
                sql: "UPDATE orders SET status = 'shipped', shipped_at_ms = ? WHERE id = ?",
                arguments: [shippedAt.unixMilliseconds, orderID]
            )
            return .marked
        }
    }

    package func orders(customerID: String, after cursor: OrderCursor?, limit: Int) async throws -> OrdersPage {
        try await database.readOffEventLoop { db in
            // One extra row tells whether another page follows.
            let ids: [String]
            if let cursor {
                ids = try String.fetchAll(
                    db,
                    sql: """
                        SELECT id FROM orders WHERE customer_id = ? AND (created_at_ms, id) < (?, ?)
                        ORDER BY created_at_ms DESC, id DESC LIMIT ?
                        """,
                    arguments: [customerID, cursor.createdAtUnixMilliseconds, cursor.orderID, limit + 1]
                )
            } else {
                ids = try String.fetchAll(
                    db,
                    sql: "SELECT id FROM orders WHERE customer_id = ? ORDER BY created_at_ms DESC, id DESC LIMIT ?",
                    arguments: [customerID, limit + 1]
                )
            }
            let orders = try ids.prefix(limit).compactMap { try Self.fetchOrder(db, id: $0) }
            return OrdersPage(orders: orders, next: ids.count > limit ? orders.last.map(OrderCursor.init(after:)) : nil)
        }
    }

    // MARK: - Reads shared by the calls above

    private static func fetchOrder(_ db: Database, id: String) throws -> Order? {
        let statement = try db.cachedStatement(sql: "SELECT customer_id, status, total_cents, created_at_ms, shipped_at_ms FROM orders WHERE id = ?")
        guard let row = try Row.fetchOne(statement, arguments: [id]) else { return nil }
        let linesStatement = try db.cachedStatement(
            sql: "SELECT sku, quantity, unit_price_cents FROM order_lines WHERE order_id = ? ORDER BY line_number"
        )
        let lines = try Row.fetchAll(linesStatement, arguments: [id]).map {
            OrderLine(sku: $0["sku"], quantity: $0["quantity"], unitPriceCents: $0["unit_price_cents"])
        }
        let status: String = row["status"]
        return Order(
            id: id,
            customerID: row["customer_id"],
            // The CHECK constraint admits only known statuses.
            status: OrderStatus(rawValue: status) ?? .placed,
            lines: lines,
            totalCents: row["total_cents"],
            createdAt: Date(unixMilliseconds: row["created_at_ms"]),
            shippedAt: (row["shipped_at_ms"] as Int64?).map(Date.init(unixMilliseconds:))
        )
    }

    private static func fetchPlacement(_ db: Database, idempotencyKey: String) throws -> StoredPlacement? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT id, request_fingerprint FROM orders WHERE idempotency_key = ?",
                arguments: [idempotencyKey]
            ),
            let order = try fetchOrder(db, id: row["id"])
        else { return nil }
        return StoredPlacement(order: order, fingerprint: row["request_fingerprint"])
    }
}
