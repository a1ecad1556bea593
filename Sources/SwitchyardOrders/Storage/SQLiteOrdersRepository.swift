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

    /// The hot path of GET /orders: one indexed read, on the calling thread (a hop to GRDB's
    /// reader queue would cost more than the read). The order and its lines come from one
    /// SELECT (`fetchOrder`), which reads one snapshot on its own, so they always match without
    /// a transaction: `unsafeRead` skips the BEGIN and COMMIT that `read` wraps around it, which
    /// cost about as much as the SELECT. The calling thread is an event loop: every other read
    /// of this pool is `readOffEventLoop`, or this one could wait forever.
    private func readOrderInPlace(id: String) throws -> Order? {
        try database.unsafeRead { db in try Self.fetchOrder(db, id: id) }
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

    /// An order with its lines, in one statement: a row per line, the order's columns repeated
    /// on each (an order has a handful of lines), read by position.
    private static func fetchOrder(_ db: Database, id: String) throws -> Order? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT o.customer_id, o.status, o.total_cents, o.created_at_ms, o.shipped_at_ms,
                       l.sku, l.quantity, l.unit_price_cents
                FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
                WHERE o.id = ?
                ORDER BY l.line_number
                """
        )
        let rows = try Row.fetchCursor(statement, arguments: [id])
        var order: Row?
        var lines: [OrderLine] = []
        while let row = try rows.next() {
            // The cursor reuses its row: keep a copy of the first for the order's columns.
            if order == nil { order = row.copy() }
            if let sku: String = row[5] {
                lines.append(OrderLine(sku: sku, quantity: row[6], unitPriceCents: row[7]))
            }
        }
        guard let order else { return nil }
        let status: String = order[1]
        return Order(
            id: id,
            customerID: order[0],
            // The CHECK constraint admits only known statuses.
            status: OrderStatus(rawValue: status) ?? .placed,
            lines: lines,
            totalCents: order[2],
            createdAt: Date(unixMilliseconds: order[3]),
            shippedAt: (order[4] as Int64?).map(Date.init(unixMilliseconds:))
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
