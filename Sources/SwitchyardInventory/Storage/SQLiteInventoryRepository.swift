package import Foundation
package import GRDB
import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardStorage

/// The inventory's own SQLite database. Every reservation change is one write transaction, and
/// SQLite runs write transactions one at a time, so the availability check and the decrement
/// cannot interleave with another reservation's.
///
/// GetStock, the hottest read, is answered from an in-memory read model of the `stock` table
/// (`StockReadModel`) when `cachedReads` is on: each write transaction reads back the rows it
/// changed, with their versions, and hands them to the model once committed. That holds as
/// long as this process is the database's only writer, which is the rule for a service's own
/// database; a deployment that breaks it turns the model off (`inventory.database.cacheReads`).
package struct SQLiteInventoryRepository: InventoryRepository {
    private let database: DatabasePool
    private let readModel: StockReadModel?
    /// GetStock's reads when there is no read model (see `readStockInPlace`).
    private let inPlaceReader: InPlaceReader

    /// - Parameters:
    ///   - database: A pool opened with `SQLiteInventoryRepository.migrations`.
    ///   - cachedReads: Answer `stock(sku:)` from memory (loaded here, kept current by writes).
    package init(database: DatabasePool, cachedReads: Bool = true) throws {
        self.database = database
        self.inPlaceReader = InPlaceReader(path: database.path)
        if cachedReads {
            let model = StockReadModel()
            try database.read { db in model.apply(try Self.versionedRows(db, skus: nil)) }
            self.readModel = model
        } else {
            self.readModel = nil
        }
    }

    /// The schema this repository needs; apply it with `SQLiteDatabase.open`.
    package static var migrations: DatabaseMigrator { InventoryMigrations.migrator }

    package func stock(sku: String) async throws -> StockLevel? {
        if let readModel { return readModel.level(of: sku) }
        return try readStockInPlace(sku: sku)
    }

    /// The hot path of GetStock without the read model: a point read by primary key,
    /// synchronously on the calling thread (an event loop), on a connection of its own
    /// (`InPlaceReader`, as orders' GetOrder). It takes a few microseconds and never waits for
    /// the writer (WAL); a hop to GRDB's reader queue, or GRDB's pool machinery, would cost more
    /// than the read itself. One SELECT reads one snapshot, so no transaction is needed.
    private func readStockInPlace(sku: String) throws -> StockLevel? {
        var level: StockLevel?
        try inPlaceReader.forEachRow(Self.stockQuery, [.text(sku)]) { row in
            level = StockLevel(sku: sku, quantity: Int(row.integer(0)))
        }
        return level
    }

    private static let stockQuery = InPlaceQuery("SELECT quantity FROM stock WHERE sku = ?")

    package func listStock(after afterSKU: String?, limit: Int) async throws -> StockPage {
        try await database.readOffEventLoop { db in
            // One extra row tells whether another page follows.
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT sku, quantity FROM stock WHERE sku > ? ORDER BY sku LIMIT ?",
                arguments: [afterSKU ?? "", limit + 1]
            )
            let items = rows.prefix(limit).map { StockLevel(sku: $0["sku"], quantity: $0["quantity"]) }
            return StockPage(items: items, lastSKU: rows.count > limit ? items.last?.sku : nil)
        }
    }

    package func seed(_ catalogue: [StockLevel]) async throws {
        try await write(skus: catalogue.map(\.sku)) { db in
            for level in catalogue {
                try db.execute(
                    sql: "INSERT INTO stock (sku, quantity) VALUES (?, ?) ON CONFLICT (sku) DO NOTHING",
                    arguments: [level.sku, level.quantity]
                )
            }
        }
    }

    package func reserve(_ request: ReservationRequest, now: Date) async throws -> ReservationOutcome {
        try await write(skus: request.lines.map(\.sku)) { db in
            if let existing = try Self.fetchReservation(db, orderID: request.orderID) {
                return try ReservationRules.existingOutcome(of: existing, for: request)
            }
            let available = try db.cachedStatement(sql: "SELECT quantity FROM stock WHERE sku = ?")
            try ReservationRules.checkAvailability(of: request) { sku in
                try Int.fetchOne(available, arguments: [sku])
            }
            let reservation = Reservation(
                orderID: request.orderID,
                status: .reserved,
                lines: request.lines,
                createdAt: now,
                expiresAt: now.addingTimeInterval(request.timeToLive.timeInterval)
            )
            try Self.insert(reservation, in: db)
            let takeStock = try db.cachedStatement(sql: "UPDATE stock SET quantity = quantity - ?, version = version + 1 WHERE sku = ?")
            let addLine = try db.cachedStatement(sql: "INSERT INTO reservation_lines (order_id, sku, quantity) VALUES (?, ?, ?)")
            for line in request.lines {
                try takeStock.execute(arguments: [line.quantity, line.sku])
                try addLine.execute(arguments: [request.orderID, line.sku, line.quantity])
            }
            return ReservationOutcome(reservation: reservation, created: true)
        }
    }

    package func confirm(orderID: String) async throws -> Reservation {
        try await database.write { db in
            guard var reservation = try Self.fetchReservation(db, orderID: orderID) else {
                throw InventoryError.reservationNotFound(orderID: orderID)
            }
            let status = try ReservationRules.confirmed(reservation)
            if status != reservation.status {
                try Self.setStatus(db, orderID: orderID, to: status)
                reservation.status = status
            }
            return reservation
        }
    }

    package func confirm(orderID: String, forEvent eventID: String, group: String) async throws -> Reservation? {
        try await database.write { db in
            guard var reservation = try Self.fetchReservation(db, orderID: orderID) else {
                throw InventoryError.reservationNotFound(orderID: orderID)
            }
            let status = try ReservationRules.confirmed(reservation)
            guard try Inbox.record(eventID: eventID, group: group, in: db) else { return nil }
            if status != reservation.status {
                try Self.setStatus(db, orderID: orderID, to: status)
                reservation.status = status
            }
            return reservation
        }
    }

    package func release(orderID: String, now: Date) async throws -> Reservation {
        try await writeReturningChangedSKUs { db in
            guard var reservation = try Self.fetchReservation(db, orderID: orderID) else {
                let tombstone = Reservation(orderID: orderID, status: .released, lines: [], createdAt: now, expiresAt: now)
                try Self.insert(tombstone, in: db)
                return (tombstone, [])
            }
            if try ReservationRules.releaseReturnsStock(reservation) {
                try Self.returnStock(db, of: reservation)
                try Self.setStatus(db, orderID: orderID, to: .released)
                reservation.status = .released
                return (reservation, reservation.lines.map(\.sku))
            }
            return (reservation, [])
        }
    }

    package func expireReservations(now: Date) async throws -> [String] {
        try await writeReturningChangedSKUs { db in
            let due = try String.fetchAll(
                db,
                sql: "SELECT order_id FROM reservations WHERE status = 'reserved' AND expires_at_ms <= ? ORDER BY order_id",
                arguments: [now.unixMilliseconds]
            )
            var changed: [String] = []
            for orderID in due {
                guard let reservation = try Self.fetchReservation(db, orderID: orderID) else { continue }
                try Self.returnStock(db, of: reservation)
                try Self.setStatus(db, orderID: orderID, to: .expired)
                changed += reservation.lines.map(\.sku)
            }
            return (due, changed)
        }
    }

    package func reservation(orderID: String) async throws -> Reservation? {
        try await database.readOffEventLoop { db in try Self.fetchReservation(db, orderID: orderID) }
    }

    package func outstandingReservations() async throws -> Int {
        try await database.readOffEventLoop { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations WHERE status = 'reserved'") ?? 0 }
    }

    // MARK: - Statements shared by the transactions above

    private static func fetchReservation(_ db: Database, orderID: String) throws -> Reservation? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT status, created_at_ms, expires_at_ms FROM reservations WHERE order_id = ?"),
                arguments: [orderID]
            )
        else { return nil }
        let lines = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT sku, quantity FROM reservation_lines WHERE order_id = ? ORDER BY sku"),
            arguments: [orderID]
        ).map { ReservationLine(sku: $0["sku"], quantity: $0["quantity"]) }
        let statusText: String = row["status"]
        return Reservation(
            orderID: orderID,
            // The CHECK constraint admits only known statuses; `.released` is a safe reading
            // should a future version add one this build does not know.
            status: ReservationStatus(rawValue: statusText) ?? .released,
            lines: lines,
            createdAt: Date(unixMilliseconds: row["created_at_ms"]),
            expiresAt: Date(unixMilliseconds: row["expires_at_ms"])
        )
    }

    /// The reservation's own row; its lines are the caller's.
    private static func insert(_ reservation: Reservation, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO reservations (order_id, status, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)")
            .execute(arguments: [
                reservation.orderID, reservation.status.rawValue,
                reservation.createdAt.unixMilliseconds, reservation.expiresAt.unixMilliseconds,
            ])
    }

    private static func setStatus(_ db: Database, orderID: String, to status: ReservationStatus) throws {
        try db.cachedStatement(sql: "UPDATE reservations SET status = ? WHERE order_id = ?")
            .execute(arguments: [status.rawValue, orderID])
    }

    private static func returnStock(_ db: Database, of reservation: Reservation) throws {
        let giveBack = try db.cachedStatement(sql: "UPDATE stock SET quantity = quantity + ?, version = version + 1 WHERE sku = ?")
        for line in reservation.lines {
            try giveBack.execute(arguments: [line.quantity, line.sku])
        }
    }

    // MARK: - Writes that keep the read model current

    /// A write transaction touching `skus`: their rows are read back inside it and handed to
    /// the read model once it has committed.
    private func write<T: Sendable>(skus: [String], _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writeReturningChangedSKUs { db in (try body(db), skus) }
    }

    /// A write transaction whose body says which SKUs it changed.
    private func writeReturningChangedSKUs<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> (T, [String])) async throws -> T {
        let readModel = self.readModel
        let (result, rows) = try await database.write { db in
            let (result, changed) = try body(db)
            let rows = readModel == nil || changed.isEmpty ? [] : try Self.versionedRows(db, skus: changed)
            return (result, rows)
        }
        readModel?.apply(rows)
        return result
    }

    /// Rows of `stock` (all when `skus` is nil) with their versions.
    private static func versionedRows(_ db: Database, skus: [String]?) throws -> [StockReadModel.Row] {
        let rows: [Row]
        if let skus {
            let unique = Array(Set(skus))
            rows = try Row.fetchAll(
                db,
                sql: "SELECT sku, quantity, version FROM stock WHERE sku IN (\(Array(repeating: "?", count: unique.count).joined(separator: ", ")))",
                arguments: StatementArguments(unique)
            )
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT sku, quantity, version FROM stock")
        }
        return rows.map { StockReadModel.Row(sku: $0["sku"], quantity: $0["quantity"], version: $0["version"]) }
    }
}
