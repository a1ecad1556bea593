package import Foundation
package import GRDB
package import SwitchyardEventBus
import SwitchyardRuntime

/// A shipment: one per order.
package struct Shipment: Sendable, Hashable {
    package var id: String
    package var orderID: String
    package var customerID: String
    package var createdAt: Date
}

/// Fulfillment's storage seam: shipments, and the inbox and outbox that make shipping an order
/// exactly-once in effect under at-least-once delivery. `SQLiteShipmentRepository` and
/// `PostgresShipmentRepository` pass the same conformance suite
/// (Tests/SwitchyardGatewayTests/ShipmentRepositoryConformanceTests.swift).
package protocol ShipmentRepository: Sendable {
    /// Creates the order's shipment and queues the events `makeEvents` builds for it, recording
    /// `eventID` in the inbox, all in one transaction. `nil` when the event was applied before;
    /// an order that already has a shipment keeps it (and nothing is queued twice).
    func ship(
        orderID: String,
        customerID: String,
        eventID: String,
        group: String,
        now: Date,
        makeEvents: @escaping @Sendable (Shipment) throws -> [EventEnvelope]
    ) async throws -> Shipment?

    /// Shipments per order id (for tests and tools).
    func shipments(forOrder orderID: String) async throws -> [Shipment]

    /// How many shipments exist.
    func count() async throws -> Int
}

/// Fulfillment's own SQLite database.
package struct SQLiteShipmentRepository: ShipmentRepository {
    private let database: DatabasePool

    package init(database: DatabasePool) {
        self.database = database
    }

    package static var migrations: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: shipments") { db in
            try db.execute(
                sql: """
                    CREATE TABLE shipments (
                        id TEXT PRIMARY KEY NOT NULL,
                        order_id TEXT NOT NULL UNIQUE,
                        customer_id TEXT NOT NULL,
                        created_at_ms INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        Inbox.registerMigration(in: &migrator)
        Outbox.registerMigration(in: &migrator)
        return migrator
    }

    /// Creates the order's shipment and queues the events `makeEvents` builds for it, recording
    /// `eventID` in the inbox, all in one transaction. `nil` when the event was applied before;
    /// an order that already has a shipment keeps it (and nothing is queued twice).
    package func ship(
        orderID: String,
        customerID: String,
        eventID: String,
        group: String,
        now: Date,
        makeEvents: @escaping @Sendable (Shipment) throws -> [EventEnvelope]
    ) async throws -> Shipment? {
        try await database.write { db in
            guard try Inbox.record(eventID: eventID, group: group, in: db) else { return nil }
            let existingShipment = try db.cachedStatement(sql: "SELECT id, customer_id, created_at_ms FROM shipments WHERE order_id = ?")
            if let existing = try Row.fetchOne(existingShipment, arguments: [orderID]) {
                return Shipment(id: existing["id"], orderID: orderID, customerID: existing["customer_id"], createdAt: Date(unixMilliseconds: existing["created_at_ms"]))
            }
            let shipment = Shipment(
                id: LowercaseHex.randomIdentifier(prefix: "shp_"),
                orderID: orderID,
                customerID: customerID,
                createdAt: now
            )
            try db.cachedStatement(sql: "INSERT INTO shipments (id, order_id, customer_id, created_at_ms) VALUES (?, ?, ?, ?)")
                .execute(arguments: [shipment.id, orderID, customerID, now.unixMilliseconds])
            try Outbox.enqueue(try makeEvents(shipment), in: db)
            return shipment
        }
    }

    /// Shipments per order id (for tests and tools).
    package func shipments(forOrder orderID: String) async throws -> [Shipment] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, customer_id, created_at_ms FROM shipments WHERE order_id = ?", arguments: [orderID]).map {
                Shipment(id: $0["id"], orderID: orderID, customerID: $0["customer_id"], createdAt: Date(unixMilliseconds: $0["created_at_ms"]))
            }
        }
    }

    /// How many shipments exist.
    package func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM shipments") ?? 0 }
    }
}
