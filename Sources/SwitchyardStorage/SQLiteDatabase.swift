import Foundation
package import GRDB
package import Logging

/// Where and how a service opens its own SQLite database.
package struct SQLiteDatabaseConfiguration: Sendable {
    /// The database file. `:memory:` is not supported: services share the file between a
    /// writer and several readers (WAL), which needs a real file.
    package var path: String
    /// How long a connection waits for another process's write lock before failing.
    package var busyTimeout: Duration
    /// How many connections may read at once, beside the single writer.
    package var maximumReaderCount: Int

    package init(path: String, busyTimeout: Duration = .seconds(5), maximumReaderCount: Int = 4) {
        self.path = path
        self.busyTimeout = busyTimeout
        self.maximumReaderCount = maximumReaderCount
    }
}

/// Errors opening a database; each names the file so an operator knows what to fix.
package enum SQLiteDatabaseError: Error, CustomStringConvertible {
    case cannotCreateDirectory(path: String, reason: String)
    case cannotOpen(path: String, reason: String)
    case migrationFailed(path: String, reason: String)

    package var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            "cannot create the directory for database \(path): \(reason)"
        case .cannotOpen(let path, let reason):
            "cannot open database \(path): \(reason)"
        case .migrationFailed(let path, let reason):
            "cannot migrate database \(path): \(reason)"
        }
    }
}

/// Opens service databases: a GRDB `DatabasePool` in WAL mode (one writer, concurrent readers
/// that never wait for it) with the service's migrations applied before anything reads it.
///
/// Statements that run for every order or event go through `db.cachedStatement(sql:)`, which
/// compiles them once per connection. `db.execute(sql:)` compiles on every call, and on the
/// POST path that compiling (with GRDB's authorizer callbacks) was over a tenth of an order's
/// CPU. Statements that run rarely (migrations, tools, sweeps) are left to compile each time.
package enum SQLiteDatabase {
    /// Opens (creating if needed) the database at `configuration.path` and migrates it.
    ///
    /// - Parameters:
    ///   - configuration: The file and connection settings.
    ///   - migrations: The service's versioned migrations; already applied ones are skipped,
    ///     so calling this on every start is safe.
    ///   - logger: Receives one line naming the file and the applied migrations.
    /// - Returns: A pool ready for reads and writes.
    package static func open(
        configuration: SQLiteDatabaseConfiguration,
        migrations: DatabaseMigrator,
        logger: Logger
    ) throws -> DatabasePool {
        let directory = URL(fileURLWithPath: configuration.path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SQLiteDatabaseError.cannotCreateDirectory(path: configuration.path, reason: "\(error)")
        }

        var grdb = Configuration()
        grdb.busyMode = .timeout(TimeInterval(configuration.busyTimeout.components.seconds))
        grdb.maximumReaderCount = max(1, configuration.maximumReaderCount)
        grdb.prepareDatabase { db in
            // WAL with synchronous=NORMAL is durable across process crashes (the case our
            // kill -9 tests exercise); only a power loss can drop the last transactions.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }

        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: configuration.path, configuration: grdb)
        } catch {
            throw SQLiteDatabaseError.cannotOpen(path: configuration.path, reason: "\(error)")
        }
        do {
            let before = try pool.read { db in try migrations.appliedIdentifiers(db) }
            try migrations.migrate(pool)
            let after = try pool.read { db in try migrations.appliedIdentifiers(db) }
            let applied = after.subtracting(before).sorted()
            logger.info(
                "database ready",
                metadata: [
                    "switchyard.database.path": "\(configuration.path)",
                    "switchyard.database.migrations.applied": "\(applied)",
                ]
            )
        } catch {
            throw SQLiteDatabaseError.migrationFailed(path: configuration.path, reason: "\(error)")
        }
        return pool
    }
}

extension DatabasePool {
    /// An async read whose continuations never run on an event loop.
    ///
    /// Why: gRPC handler tasks prefer their connection's event loop. GRDB's async read gives
    /// its reader connection back only after resuming on the task's executor, so a synchronous
    /// read of the same pool on that loop (GetOrder did one until it moved to `InPlaceReader`)
    /// blocked the loop waiting for a reader that needed the loop to come back: under overload
    /// (`switchyard load orders --rate 700` on one core) the orders service stopped answering
    /// for good, health checks included. The hot in-place reads now have connections of their
    /// own, which never wait for the pool; the pool's async reads stay off event loops so that
    /// no synchronous pool read on a loop can bring that back.
    package func readOffEventLoop<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        try await withTaskExecutorPreference(globalConcurrentExecutor) {
            try await read(value)
        }
    }
}
