import Logging
import PostgresNIO

/// One version of a service's PostgreSQL schema. Never edit a shipped migration: add the next.
package struct PostgresMigration: Sendable {
    /// Applied in ascending order; recorded in the schema's `schema_migrations` table.
    package var version: Int
    package var name: String
    /// Run one at a time: the extended query protocol takes one statement per query.
    package var statements: [String]

    package init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

extension PostgresServiceDatabase {
    /// Applies the migrations this schema lacks, in one transaction under an advisory lock, so
    /// replicas starting together take turns: the first applies them, the others then find
    /// them recorded and apply nothing. DDL is transactional in PostgreSQL, so a replica
    /// killed mid-migration leaves nothing half-done, and its lock goes with its connection.
    ///
    /// - Returns: The versions applied now.
    package func migrate(_ migrations: [PostgresMigration]) async throws -> [Int] {
        let schema = configuration.schema
        let sorted = migrations.sorted { $0.version < $1.version }
        return try await transaction { connection in
            let logger = self.queryLogger
            // One lock per schema: services sharing a database migrate independently.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockClass), hashtext(\(schema)))", logger: logger)
            // The schema name is a checked identifier (PostgresDatabaseConfiguration).
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \"\(schema)\""), logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            var now: [Int] = []
            for migration in sorted where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger
                )
                now.append(migration.version)
            }
            return now
        }
    }

    /// The first key of the migration lock ("SWYD"), the second being the schema's hash.
    static var migrationLockClass: Int32 { 0x5357_5944 }
}
