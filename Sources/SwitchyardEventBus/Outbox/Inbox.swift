import Foundation
package import GRDB
import SwitchyardRuntime

/// The durable inbox: a table in a consuming service's own database recording which events
/// each of its consumer groups has applied. A handler records the event in the same
/// transaction as its effect, so a redelivered event is recognised and changes nothing.
///
/// ```swift
/// try await database.write { db in
///     guard try Inbox.record(eventID: event.envelope.id, group: "orders", in: db) else { return }
///     try markShipped(orderID, in: db)   // runs once per event, however often it is delivered
/// }
/// ```
package enum Inbox {
    /// Adds the inbox table to a service's migrations.
    package static func registerMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("inbox v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE inbox (
                        group_name TEXT NOT NULL,
                        event_id TEXT NOT NULL,
                        processed_ms INTEGER NOT NULL,
                        PRIMARY KEY (group_name, event_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
    }

    /// Records that `group` applied `eventID`.
    /// - Returns: `false` when it already had: skip the effect.
    package static func record(eventID: String, group: String, in db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT INTO inbox (group_name, event_id, processed_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        ).execute(arguments: [group, eventID, Date().unixMilliseconds])
        return db.changesCount == 1
    }
}

