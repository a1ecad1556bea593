package import Foundation
import PostgresNIO
package import SwitchyardEventBus
import SwitchyardRuntime
package import SwitchyardStorage

/// The orders service's PostgreSQL schema, shared by every replica of the service.
///
/// Replicas need no coordination beyond the database's: the idempotency key is UNIQUE, so two
/// replicas placing one key at once store one order (the second insert waits for the first and
/// then reports the key as used); the inbox row makes a shipment apply once.
package struct PostgresOrdersRepository: OrdersRepository {
    private let database: PostgresServiceDatabase

    /// - Parameter database: A database opened with `PostgresOrdersRepository.migrations`.
    package init(database: PostgresServiceDatabase) {
        self.database = database
    }

    /// The schema, versioned; the SQLite schema's, in PostgreSQL's types.
    package static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1,
            name: "orders, lines, idempotency keys",
            statements: [
                """
                CREATE TABLE orders (
                    id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('placed', 'shipped')),
                    total_cents BIGINT NOT NULL CHECK (total_cents >= 0),
                    created_at_ms BIGINT NOT NULL,
                    shipped_at_ms BIGINT,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    request_fingerprint TEXT NOT NULL
                )
                """,
                "CREATE INDEX orders_by_customer ON orders (customer_id, created_at_ms DESC, id DESC)",
                """
                CREATE TABLE order_lines (
                    order_id TEXT NOT NULL REFERENCES orders (id),
                    line_number INTEGER NOT NULL,
                    sku TEXT NOT NULL,
                    quantity BIGINT NOT NULL CHECK (quantity > 0),
                    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
                    PRIMARY KEY (order_id, line_number)
                )
                """,
            ]
        ),
        PostgresOutbox.migration(version: 2),
        PostgresInbox.migration(version: 3),
    ]

    package func order(id: String) async throws -> Order? {
        try await database.withConnection { connection in
            try await Self.fetchOrder(connection, id: id, logger: database.queryLogger)
        }
    }

    package func placement(idempotencyKey: String) async throws -> StoredPlacement? {
        try await database.withConnection { connection in
            try await Self.fetchPlacement(connection, idempotencyKey: idempotencyKey, logger: database.queryLogger)
        }
    }

    package func insert(_ order: Order, idempotencyKey: String, fingerprint: String, events: [EventEnvelope]) async throws -> OrderInsertOutcome {
        let logger = database.queryLogger
        return try await database.transaction { connection in
            // ON CONFLICT waits for a concurrent insert of the same key to commit, then inserts
            // nothing; the order that replica stored is then visible to the next statement.
            let inserted = try await connection.query(
                """
                INSERT INTO orders (id, customer_id, status, total_cents, created_at_ms, idempotency_key, request_fingerprint)
                VALUES (\(order.id), \(order.customerID), \(order.status.rawValue), \(order.totalCents), \(order.createdAt.unixMilliseconds), \(idempotencyKey), \(fingerprint))
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1
                """,
                logger: logger
            )
            var stored = false
            for try await _ in inserted.decode(Int.self) { stored = true }
            guard stored else {
                guard let existing = try await Self.fetchPlacement(connection, idempotencyKey: idempotencyKey, logger: logger) else {
                    // The key's row exists but is not visible: cannot happen under READ COMMITTED
                    // once the conflicting insert committed; report it rather than guess.
                    throw DatabaseUnavailableError(reason: "order for idempotency key \(idempotencyKey) conflicted but cannot be read")
                }
                return .keyAlreadyUsed(existing)
            }
            for (number, line) in order.lines.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO order_lines (order_id, line_number, sku, quantity, unit_price_cents)
                    VALUES (\(order.id), \(number), \(line.sku), \(line.quantity), \(line.unitPriceCents))
                    """,
                    logger: logger
                )
            }
            try await PostgresOutbox.enqueue(events, on: connection, logger: logger)
            return .inserted
        }
    }

    package func markShipped(orderID: String, eventID: String, group: String, at shippedAt: Date) async throws -> ShipmentOutcome {
        let logger = database.queryLogger
        return try await database.transaction { connection in
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM orders WHERE id = \(orderID)", logger: logger).decode(Int.self) {
                exists = true
            }
            guard exists else { return .orderNotFound }
            guard try await PostgresInbox.record(eventID: eventID, group: group, on: connection, logger: logger) else { return .alreadyApplied }
            try await connection.query(
                "UPDATE orders SET status = 'shipped', shipped_at_ms = \(shippedAt.unixMilliseconds) WHERE id = \(orderID)",
                logger: logger
            )
            return .marked
        }
    }

    package func orders(customerID: String, after cursor: OrderCursor?, limit: Int) async throws -> OrdersPage {
        let logger = database.queryLogger
        return try await database.withConnection { connection in
            // One extra row tells whether another page follows.
            let rows: PostgresRowSequence
            if let cursor {
                rows = try await connection.query(
                    """
                    SELECT id FROM orders WHERE customer_id = \(customerID) AND (created_at_ms, id) < (\(cursor.createdAtUnixMilliseconds), \(cursor.orderID))
                    ORDER BY created_at_ms DESC, id DESC LIMIT \(limit + 1)
                    """,
                    logger: logger
                )
            } else {
                rows = try await connection.query(
                    "SELECT id FROM orders WHERE customer_id = \(customerID) ORDER BY created_at_ms DESC, id DESC LIMIT \(limit + 1)",
                    logger: logger
                )
            }
            var ids: [String] = []
            for try await id in rows.decode(String.self) { ids.append(id) }
            var orders: [Order] = []
            for id in ids.prefix(limit) {
                if let order = try await Self.fetchOrder(connection, id: id, logger: logger) { orders.append(order) }
            }
            return OrdersPage(orders: orders, next: ids.count > limit ? orders.last.map(OrderCursor.init(after:)) : nil)
        }
    }

    // MARK: - Reads shared by the calls above

    /// An order and its lines in one statement, so they come from one snapshot.
    private static func fetchOrder(_ connection: PostgresConnection, id: String, logger: Logger) async throws -> Order? {
        let rows = try await connection.query(
            """
            SELECT o.customer_id, o.status, o.total_cents, o.created_at_ms, o.shipped_at_ms, l.sku, l.quantity, l.unit_price_cents
            FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
            WHERE o.id = \(id) ORDER BY l.line_number
            """,
            logger: logger
        )
        var order: Order?
        for try await (customerID, status, total, createdAt, shippedAt, sku, quantity, unitPrice) in rows.decode(
            (String, String, Int64, Int64, Int64?, String?, Int?, Int64?).self
        ) {
            if order == nil {
                order = Order(
                    id: id,
                    customerID: customerID,
                    // The CHECK constraint admits only known statuses.
                    status: OrderStatus(rawValue: status) ?? .placed,
                    lines: [],
                    totalCents: total,
                    createdAt: Date(unixMilliseconds: createdAt),
                    shippedAt: shippedAt.map(Date.init(unixMilliseconds:))
                )
            }
            if let sku, let quantity, let unitPrice {
                order?.lines.append(OrderLine(sku: sku, quantity: quantity, unitPriceCents: unitPrice))
            }
        }
        return order
    }

    private static func fetchPlacement(_ connection: PostgresConnection, idempotencyKey: String, logger: Logger) async throws -> StoredPlacement? {
        var found: (id: String, fingerprint: String)?
        for try await (id, fingerprint) in try await connection.query(
            "SELECT id, request_fingerprint FROM orders WHERE idempotency_key = \(idempotencyKey)",
            logger: logger
        ).decode((String, String).self) {
            found = (id, fingerprint)
        }
        guard let found, let order = try await fetchOrder(connection, id: found.id, logger: logger) else { return nil }
        return StoredPlacement(order: order, fingerprint: found.fingerprint)
    }
}
