import Foundation
package import GRDB
import SwitchyardStorage

/// Where an `OutboxRelay` takes its events from: a service's outbox table, in SQLite or in
/// PostgreSQL.
package protocol OutboxStore: Sendable {
    /// Hands up to `limit` of the oldest queued events to `publish`, and removes them once it
    /// returns; when it throws they stay queued.
    /// - Returns: How many events were published (0: the outbox was empty).
    func relayBatch(limit: Int, publish: @escaping @Sendable ([EventEnvelope]) async throws -> Void) async throws -> Int

    /// Events waiting to be published.
    func backlog() async throws -> Int
}

/// The outbox table in a service's SQLite database. One process writes a SQLite database, so
/// one relay reads it: nothing to coordinate. Its reads stay off event loops (see
/// `DatabasePool.readOffEventLoop`), where the services' handlers run.
package struct SQLiteOutboxStore: OutboxStore {
    private let database: DatabasePool

    package init(database: DatabasePool) {
        self.database = database
    }

    package func relayBatch(limit: Int, publish: @escaping @Sendable ([EventEnvelope]) async throws -> Void) async throws -> Int {
        let pending = try await database.readOffEventLoop { db in try Outbox.pending(limit: limit, in: db) }
        guard let last = pending.last else { return 0 }
        try await publish(pending.map(\.event))
        try await database.write { db in try Outbox.remove(through: last.position, in: db) }
        return pending.count
    }

    package func backlog() async throws -> Int {
        try await database.readOffEventLoop { db in try Outbox.backlog(in: db) }
    }
}
