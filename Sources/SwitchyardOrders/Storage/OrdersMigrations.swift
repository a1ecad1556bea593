import GRDB
import SwitchyardEventBus

/// The orders database's schema, one migration per version. Never edit a shipped migration.
enum OrdersMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: orders, lines, idempotency keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE orders (
                        id TEXT PRIMARY KEY NOT NULL,
                        customer_id TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('placed', 'shipped')),
                        total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
                        created_at_ms INTEGER NOT NULL,
                        -- The key that placed the order and the fingerprint of its request. UNIQUE
                        -- is what stops two replicas placing one key twice.
                        idempotency_key TEXT NOT NULL UNIQUE,
                        request_fingerprint TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX orders_by_customer ON orders (customer_id, created_at_ms DESC, id DESC);
                    CREATE TABLE order_lines (
                        order_id TEXT NOT NULL REFERENCES orders (id),
                        line_number INTEGER NOT NULL,
                        sku TEXT NOT NULL,
                        quantity INTEGER NOT NULL CHECK (quantity > 0),
                        unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
                        PRIMARY KEY (order_id, line_number)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // The transactional outbox (order.placed) and the inbox (shipment.dispatched).
        Outbox.registerMigration(in: &migrator)
        Inbox.registerMigration(in: &migrator)
        migrator.registerMigration("v2: when an order shipped") { db in
            try db.execute(sql: "ALTER TABLE orders ADD COLUMN shipped_at_ms INTEGER")
        }
        return migrator
    }
}
