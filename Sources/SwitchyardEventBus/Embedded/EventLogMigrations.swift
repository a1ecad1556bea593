import GRDB

/// The embedded event log's schema. Never edit a shipped migration: add the next one.
enum EventLogMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: events, group cursors, deliveries, dead letters") { db in
            try db.execute(
                sql: """
                    -- The log: every event once (its id is unique), in publication order.
                    CREATE TABLE events (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        topic TEXT NOT NULL,
                        subject TEXT,
                        source TEXT NOT NULL,
                        time_ms INTEGER NOT NULL,
                        extensions TEXT NOT NULL,
                        payload BLOB NOT NULL
                    );
                    CREATE INDEX events_by_topic ON events (topic, sequence);
                    -- Per group: every event of its topics before `cursor` is settled.
                    CREATE TABLE group_cursors (
                        group_name TEXT PRIMARY KEY NOT NULL,
                        cursor INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    -- Per group, the events at or past the cursor that were handed out, failed, or
                    -- finished out of order; rows before the cursor are deleted as it moves (but for
                    -- replayed dead letters, which wait there to be delivered again).
                    CREATE TABLE deliveries (
                        group_name TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        attempts INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('in_flight', 'retry', 'done')),
                        -- in_flight: lease expiry; retry: earliest redelivery (Unix ms).
                        due_ms INTEGER NOT NULL,
                        PRIMARY KEY (group_name, sequence)
                    ) WITHOUT ROWID;
                    CREATE TABLE dead_letters (
                        id TEXT PRIMARY KEY NOT NULL,
                        group_name TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        attempts INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        created_ms INTEGER NOT NULL,
                        replayed INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }
}
