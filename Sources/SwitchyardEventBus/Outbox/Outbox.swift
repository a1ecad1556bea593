import Foundation
package import GRDB
import SwitchyardRuntime

/// The transactional outbox: a table in a producing service's own database. A service writes
/// its events here in the same transaction as the state change they report, so an event is
/// stored if and only if the change is; `OutboxRelay` then publishes them.
package enum Outbox {
    /// Adds the outbox table to a service's migrations.
    package static func registerMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("outbox v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                        position INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        type TEXT NOT NULL,
                        source TEXT NOT NULL,
                        subject TEXT,
                        time_ms INTEGER NOT NULL,
                        extensions TEXT NOT NULL,
                        payload BLOB NOT NULL
                    );
                    """
            )
        }
    }

    /// Queues `events` inside the caller's transaction.
    package static func enqueue(_ events: [EventEnvelope], in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO outbox (id, type, source, subject, time_ms, extensions, payload) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for event in events {
            try statement.execute(arguments: [
                event.id, event.type, event.source, event.subject, event.time.unixMilliseconds,
                ExtensionsCoding.encode(event.extensions), Data(event.payload),
            ])
        }
    }

    /// The oldest queued events (up to `limit`), with their positions.
    static func pending(limit: Int, in db: Database) throws -> [(position: Int64, event: EventEnvelope)] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT position, id, type, source, subject, time_ms, extensions, payload FROM outbox ORDER BY position LIMIT ?"),
            arguments: [limit]
        ).map { row in
            let payload: Data = row["payload"]
            let event = EventEnvelope(
                id: row["id"],
                type: row["type"],
                source: row["source"],
                time: Date(unixMilliseconds: row["time_ms"]),
                subject: row["subject"],
                payload: Array(payload),
                extensions: try ExtensionsCoding.decode(row["extensions"])
            )
            return (row["position"], event)
        }
    }

    /// Removes published events, up to and including `position`.
    static func remove(through position: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM outbox WHERE position <= ?").execute(arguments: [position])
    }

    /// Events waiting to be published.
    package static func backlog(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
    }
}

