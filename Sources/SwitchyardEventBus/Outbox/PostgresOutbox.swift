import Foundation
package import PostgresNIO
import SwitchyardRuntime
package import SwitchyardStorage

/// The transactional outbox in a service's PostgreSQL schema: the same table and contract as
/// `Outbox` on SQLite, shared by every replica of the service.
package enum PostgresOutbox {
    /// The outbox table, for a service's migration list.
    package static func migration(version: Int) -> PostgresMigration {
        PostgresMigration(
            version: version,
            name: "outbox",
            statements: [
                """
                CREATE TABLE outbox (
                    position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    source TEXT NOT NULL,
                    subject TEXT,
                    time_ms BIGINT NOT NULL,
                    extensions TEXT NOT NULL,
                    payload BYTEA NOT NULL
                )
                """
            ]
        )
    }

    /// Queues `events` inside the caller's transaction.
    package static func enqueue(_ events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        for event in events {
            let extensions = ExtensionsCoding.encode(event.extensions)
            let payload = ByteBuffer(bytes: event.payload)
            try await connection.query(
                """
                INSERT INTO outbox (id, type, source, subject, time_ms, extensions, payload)
                VALUES (\(event.id), \(event.type), \(event.source), \(event.subject), \(event.time.unixMilliseconds), \(extensions), \(payload))
                """,
                logger: logger
            )
        }
    }

    /// Events waiting to be published.
    package static func backlog(in database: PostgresServiceDatabase) async throws -> Int {
        try await database.withConnection { connection in
            var count = 0
            for try await value in try await connection.query("SELECT COUNT(*) FROM outbox", logger: database.queryLogger).decode(Int.self) {
                count = value
            }
            return count
        }
    }
}

/// The outbox of a service with several replicas on one PostgreSQL database.
///
/// Each relay claims a batch with `SELECT … FOR UPDATE SKIP LOCKED` inside a transaction,
/// publishes it, deletes it and commits. Another replica's relay skips the rows claimed and
/// takes the next ones, so in normal operation no row is published twice. A replica that dies
/// mid-batch loses its connection, the server rolls its transaction back and releases the row
/// locks, and the next relay to look publishes those rows: nothing stalls. (Its batch may have
/// reached the bus before it died: that is the at-least-once case the bus's de-duplication by
/// event id absorbs.)
///
/// Batches of different replicas go out concurrently, so the outbox's order holds per replica,
/// not across them; each event is a separate fact about one order, and consumers do not rely
/// on an order between different orders' events.
package struct PostgresOutboxStore: OutboxStore {
    private let database: PostgresServiceDatabase

    package init(database: PostgresServiceDatabase) {
        self.database = database
    }

    package func backlog() async throws -> Int {
        try await PostgresOutbox.backlog(in: database)
    }

    package func relayBatch(limit: Int, publish: @escaping @Sendable ([EventEnvelope]) async throws -> Void) async throws -> Int {
        let logger = database.queryLogger
        // No retries: publishing is not something to repeat inside a conflict retry, and
        // SKIP LOCKED leaves nothing to conflict on.
        return try await database.transaction(retries: 0) { connection in
            let rows = try await connection.query(
                """
                SELECT position, id, type, source, subject, time_ms, extensions, payload FROM outbox
                ORDER BY position LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var positions: [Int64] = []
            var events: [EventEnvelope] = []
            for try await (position, id, type, source, subject, time, extensions, payload) in rows.decode(
                (Int64, String, String, String, String?, Int64, String, ByteBuffer).self
            ) {
                positions.append(position)
                events.append(
                    EventEnvelope(
                        id: id,
                        type: type,
                        source: source,
                        time: Date(unixMilliseconds: time),
                        subject: subject,
                        payload: Array(payload.readableBytesView),
                        extensions: try ExtensionsCoding.decode(extensions)
                    )
                )
            }
            guard !events.isEmpty else { return 0 }
            try await publish(events)
            try await connection.query("DELETE FROM outbox WHERE position = ANY(\(positions))", logger: logger)
            return events.count
        }
    }
}

/// The durable inbox in a consuming service's PostgreSQL schema: `Inbox` on SQLite, for
/// replicas. Two replicas handed one event at once both try to insert its row; the second
/// waits for the first's transaction and then inserts nothing, so the effect happens once.
package enum PostgresInbox {
    /// The inbox table, for a service's migration list.
    package static func migration(version: Int) -> PostgresMigration {
        PostgresMigration(
            version: version,
            name: "inbox",
            statements: [
                """
                CREATE TABLE inbox (
                    group_name TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    processed_ms BIGINT NOT NULL,
                    PRIMARY KEY (group_name, event_id)
                )
                """
            ]
        )
    }

    /// Records that `group` applied `eventID`, inside the caller's transaction.
    /// - Returns: `false` when it already had: skip the effect.
    package static func record(eventID: String, group: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            "INSERT INTO inbox (group_name, event_id, processed_ms) VALUES (\(group), \(eventID), \(Date().unixMilliseconds)) ON CONFLICT DO NOTHING RETURNING 1",
            logger: logger
        )
        var inserted = false
        for try await _ in rows.decode(Int.self) { inserted = true }
        return inserted
    }
}
