import Synchronization

/// The `stock` table in memory, for GetStock: a lookup here is a lock and a dictionary probe,
/// against a pool checkout, a SQLite read transaction and a statement step for the same row.
///
/// Every row carries its version (bumped by each change). Writers hand over the rows their
/// transaction changed after it commits; a row older than the one held is ignored, so two
/// transactions finishing in either order leave the newest values.
final class StockReadModel: Sendable {
    struct Row: Sendable, Hashable {
        var sku: String
        var quantity: Int
        var version: Int64
    }

    private let rows = Mutex<[String: (quantity: Int, version: Int64)]>([:])

    func apply(_ updates: [Row]) {
        rows.withLock { rows in
            for update in updates {
                if let held = rows[update.sku], held.version > update.version { continue }
                rows[update.sku] = (update.quantity, update.version)
            }
        }
    }

    func level(of sku: String) -> StockLevel? {
        rows.withLock { rows in rows[sku].map { StockLevel(sku: sku, quantity: $0.quantity) } }
    }
}
