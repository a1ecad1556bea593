import GRDB
import SwitchyardEventBus

/// The inventory database's schema, one migration per version. Never edit a shipped
/// migration: add the next one.
enum InventoryMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: stock and reservations") { db in
            // `quantity` is what can still be reserved. The CHECK is the last line of defence:
            // even a bug in the rules cannot drive stock below zero.
            try db.execute(
                sql: """
                    CREATE TABLE stock (
                        sku TEXT PRIMARY KEY NOT NULL,
                        quantity INTEGER NOT NULL CHECK (quantity >= 0)
                    ) WITHOUT ROWID;
                    CREATE TABLE reservations (
                        order_id TEXT PRIMARY KEY NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('reserved', 'confirmed', 'released', 'expired')),
                        created_at_ms INTEGER NOT NULL,
                        expires_at_ms INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX reservations_due ON reservations (expires_at_ms) WHERE status = 'reserved';
                    CREATE TABLE reservation_lines (
                        order_id TEXT NOT NULL REFERENCES reservations (order_id),
                        sku TEXT NOT NULL REFERENCES stock (sku),
                        quantity INTEGER NOT NULL CHECK (quantity > 0),
                        PRIMARY KEY (order_id, sku)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v2: stock versions") { db in
            // Bumped by every change to a row, so a reader holding copies (the in-memory read
            // model) can tell a newer value from an older one arriving late.
            try db.execute(sql: "ALTER TABLE stock ADD COLUMN version INTEGER NOT NULL DEFAULT 0")
        }
        // The inbox of consumer group `inventory` (order.placed confirms reservations).
        Inbox.registerMigration(in: &migrator)
        return migrator
    }
}
