package import Foundation
package import GRDB
package import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardStorage

/// The orders service's own SQLite database (WAL: reads never wait for the writer).
package struct SQLiteOrdersRepository: OrdersRepository {
    private let database: DatabasePool
    private let inPlaceReader: InPlaceReader

    /// - Parameter database: A pool opened with `SQLiteOrdersRepository.migrations`.
    package init(database: DatabasePool) {
        self.database = database
        self.inPlaceReader = InPlaceReader(path: database.path)
    }

    package static var migrations: DatabaseMigrator { OrdersMigrations.migrator }

    package func order(id: String) async throws -> Order? {
        try readOrderInPlace(id: id)
    }

    /// The hot path of GET /orders: one indexed read, on the calling thread, an event loop (a
    /// hop to a reader queue would cost more than the read). The order and its lines come from
    /// one SELECT (`orderQuery`), which reads one snapshot on its own, so they always match
    /// without a transaction. It runs on a connection of its own (`InPlaceReader`), not the
    /// pool's: GRDB's pool machinery cost about three times the SELECT.
    private func readOrderInPlace(id: String) throws -> Order? {
        try Self.fetchOrder(inPlaceReader, id: id)
    }

    package func placement(idempotencyKey: String) async throws -> StoredPlacement? {
        try await database.readOffEventLoop { db in try Self.fetchPlacement(db, idempotencyKey: idempotencyKey) }
    }

    package func insert(_ order: Order, idempotencyKey: String, fingerprint: String, events: [EventEnvelope]) async throws -> OrderInsertOutcome {
        try await database.write { db in
            if let existing = try Self.fetchPlacement(db, idempotencyKey: idempotencyKey) {
                return .keyAlreadyUsed(existing)
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO orders (id, customer_id, status, total_cents, created_at_ms, idempotency_key, request_fingerprint)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [order.id, order.customerID, order.status.rawValue, order.totalCents, order.createdAt.unixMilliseconds, idempotencyKey, fingerprint])
            let addLine = try db.cachedStatement(
                sql: "INSERT INTO order_lines (order_id, line_number, sku, quantity, unit_price_cents) VALUES (?, ?, ?, ?, ?)"
            )
            for (number, line) in order.lines.enumerated() {
                try addLine.execute(arguments: [order.id, number, line.sku, line.quantity, line.unitPriceCents])
            }
            try Outbox.enqueue(events, in: db)
            return .inserted
        }
    }

    package func markShipped(orderID: String, eventID: String, group: String, at shippedAt: Date) async throws -> ShipmentOutcome {
        try await database.write { db in
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM orders WHERE id = ?"), arguments: [orderID]) != nil else {
                return .orderNotFound
            }
            guard try Inbox.record(eventID: eventID, group: group, in: db) else { return .alreadyApplied }
            try db.cachedStatement(sql: "UPDATE orders SET status = 'shipped', shipped_at_ms = ? WHERE id = ?")
                .execute(arguments: [shippedAt.unixMilliseconds, orderID])
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
    /// on each (an order has a handful of lines), read by position. An order without lines
    /// gives one row whose line columns are NULL.
    private static let orderQuery = InPlaceQuery(
        """
        SELECT o.customer_id, o.status, o.total_cents, o.created_at_ms, o.shipped_at_ms,
               l.sku, l.quantity, l.unit_price_cents
        FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
        WHERE o.id = ?
        ORDER BY l.line_number
        """
    )

    /// `orderQuery` through GRDB, inside a transaction the caller holds.
    private static func fetchOrder(_ db: Database, id: String) throws -> Order? {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: orderQuery.sql), arguments: [id])
        var assembly = OrderAssembly(id: id)
        while let row = try rows.next() { assembly.add(GRDBColumns(row: row)) }
        return assembly.order
    }

    /// `orderQuery` in place on the calling thread, outside any transaction.
    private static func fetchOrder(_ reader: InPlaceReader, id: String) throws -> Order? {
        var assembly = OrderAssembly(id: id)
        try reader.forEachRow(orderQuery, [.text(id)]) { row in assembly.add(row) }
        return assembly.order
    }

    private static func fetchPlacement(_ db: Database, idempotencyKey: String) throws -> StoredPlacement? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, request_fingerprint FROM orders WHERE idempotency_key = ?"),
                arguments: [idempotencyKey]
            ),
            let order = try fetchOrder(db, id: row["id"])
        else { return nil }
        return StoredPlacement(order: order, fingerprint: row["request_fingerprint"])
    }
}

/// Builds an order from the rows of `orderQuery`, however they are read.
private struct OrderAssembly {
    let id: String
    private(set) var order: Order?

    init(id: String) {
        self.id = id
    }

    mutating func add(_ row: some OrderQueryColumns) {
        if order == nil {
            order = Order(
                id: id,
                customerID: row.text(0) ?? "",
                // The CHECK constraint admits only known statuses.
                status: row.text(1).flatMap(OrderStatus.init(rawValue:)) ?? .placed,
                lines: [],
                totalCents: row.integer(2),
                createdAt: Date(unixMilliseconds: row.integer(3)),
                shippedAt: row.isNull(4) ? nil : Date(unixMilliseconds: row.integer(4))
            )
        }
        if let sku = row.text(5) {
            order?.lines.append(OrderLine(sku: sku, quantity: Int(row.integer(6)), unitPriceCents: row.integer(7)))
        }
    }
}

/// The column reads `OrderAssembly` needs, by 0-based position.
private protocol OrderQueryColumns {
    func text(_ index: CInt) -> String?
    func integer(_ index: CInt) -> Int64
    func isNull(_ index: CInt) -> Bool
}

extension InPlaceRow: OrderQueryColumns {}

/// A GRDB row read as `OrderQueryColumns`.
private struct GRDBColumns: OrderQueryColumns {
    let row: Row
    func text(_ index: CInt) -> String? { row[Int(index)] }
    func integer(_ index: CInt) -> Int64 { row[Int(index)] ?? 0 }
    func isNull(_ index: CInt) -> Bool { row.hasNull(atIndex: Int(index)) }
}
