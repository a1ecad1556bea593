package import Foundation
import PostgresNIO
import SwitchyardEventBus
import SwitchyardRuntime
package import SwitchyardStorage

/// The inventory's PostgreSQL schema, shared by every replica of the service.
///
/// SQLite runs one write transaction at a time; PostgreSQL runs them side by side, so each
/// reservation change takes row locks instead, always in the same order (stock rows by SKU,
/// and the reservation row before stock rows it returns) so that concurrent transactions
/// queue rather than deadlock; the rare deadlock the server still detects is retried.
///
/// GetStock reads the database every time: the in-memory read model the SQLite repository
/// can keep is only correct while one process writes, and replicas are the point here.
package struct PostgresInventoryRepository: InventoryRepository {
    private let database: PostgresServiceDatabase

    /// - Parameter database: A database opened with `PostgresInventoryRepository.migrations`.
    package init(database: PostgresServiceDatabase) {
        self.database = database
    }

    package static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1,
            name: "stock and reservations",
            statements: [
                // `quantity` is what can still be reserved; the CHECK is the last line of defence.
                """
                CREATE TABLE stock (
                    sku TEXT PRIMARY KEY,
                    quantity BIGINT NOT NULL CHECK (quantity >= 0),
                    version BIGINT NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE reservations (
                    order_id TEXT PRIMARY KEY,
                    status TEXT NOT NULL CHECK (status IN ('reserved', 'confirmed', 'released', 'expired')),
                    created_at_ms BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX reservations_due ON reservations (expires_at_ms) WHERE status = 'reserved'",
                """
                CREATE TABLE reservation_lines (
                    order_id TEXT NOT NULL REFERENCES reservations (order_id),
                    sku TEXT NOT NULL REFERENCES stock (sku),
                    quantity BIGINT NOT NULL CHECK (quantity > 0),
                    PRIMARY KEY (order_id, sku)
                )
                """,
            ]
        ),
        PostgresInbox.migration(version: 2),
    ]

    package func stock(sku: String) async throws -> StockLevel? {
        try await database.withConnection { connection in
            var level: StockLevel?
            for try await quantity in try await connection.query("SELECT quantity FROM stock WHERE sku = \(sku)", logger: database.queryLogger).decode(Int.self) {
                level = StockLevel(sku: sku, quantity: quantity)
            }
            return level
        }
    }

    package func listStock(after afterSKU: String?, limit: Int) async throws -> StockPage {
        try await database.withConnection { connection in
            // One extra row tells whether another page follows.
            var rows: [StockLevel] = []
            for try await (sku, quantity) in try await connection.query(
                "SELECT sku, quantity FROM stock WHERE sku > \(afterSKU ?? "") ORDER BY sku LIMIT \(limit + 1)",
                logger: database.queryLogger
            ).decode((String, Int).self) {
                rows.append(StockLevel(sku: sku, quantity: quantity))
            }
            let items = Array(rows.prefix(limit))
            return StockPage(items: items, lastSKU: rows.count > limit ? items.last?.sku : nil)
        }
    }

    package func seed(_ catalogue: [StockLevel]) async throws {
        let logger = database.queryLogger
        try await database.transaction { connection in
            // In SKU order, so replicas seeding at once lock rows in the same order.
            for level in catalogue.sorted(by: { $0.sku < $1.sku }) {
                try await connection.query(
                    "INSERT INTO stock (sku, quantity) VALUES (\(level.sku), \(level.quantity)) ON CONFLICT (sku) DO NOTHING",
                    logger: logger
                )
            }
        }
    }

    package func reserve(_ request: ReservationRequest, now: Date) async throws -> ReservationOutcome {
        let logger = database.queryLogger
        let lines = request.lines.sorted { $0.sku < $1.sku }
        let skus = lines.map(\.sku)
        let quantities = lines.map { Int64($0.quantity) }
        return try await database.transaction { connection in
            // A repeated call finds its reservation and changes nothing.
            if let existing = try await Self.fetchReservation(connection, orderID: request.orderID, lock: false, logger: logger) {
                return try ReservationRules.existingOutcome(of: existing, for: request)
            }
            // Unknown SKUs and plain short stock are refused from a read that locks nothing.
            var available: [String: Int] = [:]
            for try await (sku, quantity) in try await connection.query(
                "SELECT sku, quantity FROM stock WHERE sku = ANY(\(skus))",
                logger: logger
            ).decode((String, Int).self) {
                available[sku] = quantity
            }
            try ReservationRules.checkAvailability(of: request) { available[$0] }
            let reservation = Reservation(
                orderID: request.orderID,
                status: .reserved,
                lines: request.lines,
                createdAt: now,
                expiresAt: now.addingTimeInterval(request.timeToLive.timeInterval)
            )
            // The reservation row first: a concurrent call for the same order waits on its
            // unique key until this transaction ends, then finds this reservation.
            var inserted = false
            for try await _ in try await connection.query(
                """
                INSERT INTO reservations (order_id, status, created_at_ms, expires_at_ms)
                VALUES (\(request.orderID), \(ReservationStatus.reserved.rawValue), \(reservation.createdAt.unixMilliseconds), \(reservation.expiresAt.unixMilliseconds))
                ON CONFLICT (order_id) DO NOTHING RETURNING 1
                """,
                logger: logger
            ).decode(Int.self) {
                inserted = true
            }
            guard inserted else {
                // A concurrent call for the same order (other lines, or its release) committed
                // first; its row is visible now and decides the answer.
                guard let existing = try await Self.fetchReservation(connection, orderID: request.orderID, lock: false, logger: logger) else {
                    throw InventoryError.reservationConflict(orderID: request.orderID)
                }
                return try ReservationRules.existingOutcome(of: existing, for: request)
            }
            try await connection.query(
                """
                INSERT INTO reservation_lines (order_id, sku, quantity)
                SELECT \(request.orderID), line.sku, line.quantity FROM unnest(\(skus)::text[], \(quantities)::bigint[]) AS line (sku, quantity)
                """,
                logger: logger
            )
            // The units last, in one statement: a popular SKU's row is locked from here to the
            // commit only, one round trip, so reservations of it queue for as little as possible.
            // The quantity check is in the statement, so stock taken since the read above
            // cannot go negative.
            var taken: Set<String> = []
            for try await sku in try await connection.query(
                """
                UPDATE stock SET quantity = stock.quantity - line.quantity, version = stock.version + 1
                FROM unnest(\(skus)::text[], \(quantities)::bigint[]) AS line (sku, quantity)
                WHERE stock.sku = line.sku AND stock.quantity >= line.quantity
                RETURNING stock.sku
                """,
                logger: logger
            ).decode(String.self) {
                taken.insert(sku)
            }
            let short = lines.filter { !taken.contains($0.sku) }
            if !short.isEmpty {
                // Other reservations took the units since the read above. The rows not updated
                // still hold what is left; throwing rolls back the units this one did take.
                var left: [String: Int] = [:]
                for try await (sku, quantity) in try await connection.query(
                    "SELECT sku, quantity FROM stock WHERE sku = ANY(\(short.map(\.sku)))",
                    logger: logger
                ).decode((String, Int).self) {
                    left[sku] = quantity
                }
                throw InventoryError.insufficientStock(short.map { .init(sku: $0.sku, requested: $0.quantity, available: left[$0.sku] ?? 0) })
            }
            return ReservationOutcome(reservation: reservation, created: true)
        }
    }

    package func confirm(orderID: String) async throws -> Reservation {
        let logger = database.queryLogger
        return try await database.transaction { connection in
            guard var reservation = try await Self.fetchReservation(connection, orderID: orderID, lock: true, logger: logger) else {
                throw InventoryError.reservationNotFound(orderID: orderID)
            }
            let status = try ReservationRules.confirmed(reservation)
            if status != reservation.status {
                try await Self.setStatus(connection, orderID: orderID, to: status, logger: logger)
                reservation.status = status
            }
            return reservation
        }
    }

    package func confirm(orderID: String, forEvent eventID: String, group: String) async throws -> Reservation? {
        let logger = database.queryLogger
        return try await database.transaction { connection in
            guard var reservation = try await Self.fetchReservation(connection, orderID: orderID, lock: true, logger: logger) else {
                throw InventoryError.reservationNotFound(orderID: orderID)
            }
            let status = try ReservationRules.confirmed(reservation)
            guard try await PostgresInbox.record(eventID: eventID, group: group, on: connection, logger: logger) else { return nil }
            if status != reservation.status {
                try await Self.setStatus(connection, orderID: orderID, to: status, logger: logger)
                reservation.status = status
            }
            return reservation
        }
    }

    package func release(orderID: String, now: Date) async throws -> Reservation {
        let logger = database.queryLogger
        // Twice at most: the first may lose a race to insert the order's row, and the second
        // then finds that row.
        for _ in 0..<2 {
            let outcome: Reservation? = try await database.transaction { connection in
                if var reservation = try await Self.fetchReservation(connection, orderID: orderID, lock: true, logger: logger) {
                    if try ReservationRules.releaseReturnsStock(reservation) {
                        try await Self.returnStock(connection, lines: reservation.lines, logger: logger)
                        try await Self.setStatus(connection, orderID: orderID, to: .released, logger: logger)
                        reservation.status = .released
                    }
                    return reservation
                }
                var inserted = false
                for try await _ in try await connection.query(
                    """
                    INSERT INTO reservations (order_id, status, created_at_ms, expires_at_ms)
                    VALUES (\(orderID), \(ReservationStatus.released.rawValue), \(now.unixMilliseconds), \(now.unixMilliseconds))
                    ON CONFLICT (order_id) DO NOTHING RETURNING 1
                    """,
                    logger: logger
                ).decode(Int.self) {
                    inserted = true
                }
                return inserted ? Reservation(orderID: orderID, status: .released, lines: [], createdAt: now, expiresAt: now) : nil
            }
            if let outcome { return outcome }
        }
        throw InventoryError.reservationConflict(orderID: orderID)
    }

    package func expireReservations(now: Date) async throws -> [String] {
        let logger = database.queryLogger
        return try await database.transaction { connection in
            // SKIP LOCKED: replicas sweeping at once split the due reservations between them
            // instead of queueing behind each other.
            var due: [String] = []
            for try await orderID in try await connection.query(
                """
                SELECT order_id FROM reservations WHERE status = 'reserved' AND expires_at_ms <= \(now.unixMilliseconds)
                ORDER BY order_id FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            ).decode(String.self) {
                due.append(orderID)
            }
            guard !due.isEmpty else { return [] }
            var returned: [String: Int] = [:]
            for try await (sku, quantity) in try await connection.query(
                "SELECT sku, quantity FROM reservation_lines WHERE order_id = ANY(\(due))",
                logger: logger
            ).decode((String, Int).self) {
                returned[sku, default: 0] += quantity
            }
            try await Self.returnStock(connection, lines: returned.map { ReservationLine(sku: $0.key, quantity: $0.value) }, logger: logger)
            try await connection.query(
                "UPDATE reservations SET status = \(ReservationStatus.expired.rawValue) WHERE order_id = ANY(\(due))",
                logger: logger
            )
            return due
        }
    }

    package func reservation(orderID: String) async throws -> Reservation? {
        try await database.withConnection { connection in
            try await Self.fetchReservation(connection, orderID: orderID, lock: false, logger: database.queryLogger)
        }
    }

    package func outstandingReservations() async throws -> Int {
        try await database.withConnection { connection in
            var count = 0
            for try await value in try await connection.query("SELECT COUNT(*) FROM reservations WHERE status = 'reserved'", logger: database.queryLogger).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    // MARK: - Statements shared by the transactions above

    private static func fetchReservation(_ connection: PostgresConnection, orderID: String, lock: Bool, logger: Logger) async throws -> Reservation? {
        let query: PostgresQuery =
            lock
            ? "SELECT status, created_at_ms, expires_at_ms FROM reservations WHERE order_id = \(orderID) FOR UPDATE"
            : "SELECT status, created_at_ms, expires_at_ms FROM reservations WHERE order_id = \(orderID)"
        var row: (status: String, createdAt: Int64, expiresAt: Int64)?
        for try await (status, createdAt, expiresAt) in try await connection.query(query, logger: logger).decode((String, Int64, Int64).self) {
            row = (status, createdAt, expiresAt)
        }
        guard let row else { return nil }
        var lines: [ReservationLine] = []
        for try await (sku, quantity) in try await connection.query(
            "SELECT sku, quantity FROM reservation_lines WHERE order_id = \(orderID) ORDER BY sku",
            logger: logger
        ).decode((String, Int).self) {
            lines.append(ReservationLine(sku: sku, quantity: quantity))
        }
        return Reservation(
            orderID: orderID,
            // The CHECK constraint admits only known statuses; `.released` is the safe reading.
            status: ReservationStatus(rawValue: row.status) ?? .released,
            lines: lines,
            createdAt: Date(unixMilliseconds: row.createdAt),
            expiresAt: Date(unixMilliseconds: row.expiresAt)
        )
    }

    private static func setStatus(_ connection: PostgresConnection, orderID: String, to status: ReservationStatus, logger: Logger) async throws {
        try await connection.query("UPDATE reservations SET status = \(status.rawValue) WHERE order_id = \(orderID)", logger: logger)
    }

    /// In SKU order, the order every transaction locks stock rows in.
    private static func returnStock(_ connection: PostgresConnection, lines: [ReservationLine], logger: Logger) async throws {
        for line in lines.sorted(by: { $0.sku < $1.sku }) {
            try await connection.query(
                "UPDATE stock SET quantity = quantity + \(line.quantity), version = version + 1 WHERE sku = \(line.sku)",
                logger: logger
            )
        }
    }
}
