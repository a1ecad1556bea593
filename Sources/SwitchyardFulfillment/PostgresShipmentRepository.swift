package import Foundation
import PostgresNIO
package import SwitchyardEventBus
import SwitchyardRuntime
package import SwitchyardStorage

/// Fulfillment's PostgreSQL schema, shared by every replica. Two replicas handed the same
/// `order.placed` at once both insert its inbox row; the second waits for the first's
/// transaction, then inserts nothing and ships nothing. `order_id` is UNIQUE as well, so even
/// two different events for one order cannot make two shipments.
package struct PostgresShipmentRepository: ShipmentRepository {
    private let database: PostgresServiceDatabase

    /// - Parameter database: A database opened with `PostgresShipmentRepository.migrations`.
    package init(database: PostgresServiceDatabase) {
        self.database = database
    }

    package static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1,
            name: "shipments",
            statements: [
                """
                CREATE TABLE shipments (
                    id TEXT PRIMARY KEY,
                    order_id TEXT NOT NULL UNIQUE,
                    customer_id TEXT NOT NULL,
                    created_at_ms BIGINT NOT NULL
                )
                """
            ]
        ),
        PostgresInbox.migration(version: 2),
        PostgresOutbox.migration(version: 3),
    ]

    package func ship(
        orderID: String,
        customerID: String,
        eventID: String,
        group: String,
        now: Date,
        makeEvents: @escaping @Sendable (Shipment) throws -> [EventEnvelope]
    ) async throws -> Shipment? {
        let logger = database.queryLogger
        return try await database.transaction { connection in
            guard try await PostgresInbox.record(eventID: eventID, group: group, on: connection, logger: logger) else { return nil }
            if let existing = try await Self.fetchShipments(connection, orderID: orderID, logger: logger).first {
                return existing
            }
            let shipment = Shipment(
                id: LowercaseHex.randomIdentifier(prefix: "shp_"),
                orderID: orderID,
                customerID: customerID,
                createdAt: now
            )
            try await connection.query(
                "INSERT INTO shipments (id, order_id, customer_id, created_at_ms) VALUES (\(shipment.id), \(orderID), \(customerID), \(now.unixMilliseconds))",
                logger: logger
            )
            try await PostgresOutbox.enqueue(try makeEvents(shipment), on: connection, logger: logger)
            return shipment
        }
    }

    package func shipments(forOrder orderID: String) async throws -> [Shipment] {
        try await database.withConnection { connection in
            try await Self.fetchShipments(connection, orderID: orderID, logger: database.queryLogger)
        }
    }

    package func count() async throws -> Int {
        try await database.withConnection { connection in
            var count = 0
            for try await value in try await connection.query("SELECT COUNT(*) FROM shipments", logger: database.queryLogger).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    private static func fetchShipments(_ connection: PostgresConnection, orderID: String, logger: Logger) async throws -> [Shipment] {
        var shipments: [Shipment] = []
        for try await (id, customerID, createdAt) in try await connection.query(
            "SELECT id, customer_id, created_at_ms FROM shipments WHERE order_id = \(orderID)",
            logger: logger
        ).decode((String, String, Int64).self) {
            shipments.append(Shipment(id: id, orderID: orderID, customerID: customerID, createdAt: Date(unixMilliseconds: createdAt)))
        }
        return shipments
    }
}
