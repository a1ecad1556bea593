import Foundation
package import SwitchyardStorage
package import Testing

/// A PostgreSQL cluster for one test suite, and the pools of the databases its tests open.
///
/// `@Suite(.postgresServer)` starts one throwaway cluster for the suite (a cluster per test
/// would cost an initdb each); every test takes a schema of its own from it, so tests running
/// side by side never see each other's rows. The pools run in a task group the suite's scope
/// owns, and stop with it, before the cluster is removed.
package struct PostgresTestEnvironment: Sendable {
    package let server: PostgresServerProcess
    private let pools: AsyncStream<PostgresServiceDatabase>.Continuation

    /// The suite's environment, inside a suite marked `.postgresServer`.
    @TaskLocal package static var current: PostgresTestEnvironment?

    /// The current suite's environment.
    /// - Throws: When the suite is not marked `.postgresServer`.
    package static func required() throws -> PostgresTestEnvironment {
        guard let current else { throw MissingTrait() }
        return current
    }

    /// A fresh schema, migrated, whose pool runs until the suite ends.
    ///
    /// - Parameters:
    ///   - migrations: The schema to create.
    ///   - schema: A name to reuse (a second pool on the same schema, like a second replica);
    ///     a fresh one when `nil`.
    package func makeDatabase(migrations: [PostgresMigration], schema: String? = nil) async throws -> PostgresServiceDatabase {
        let name = schema ?? Self.freshSchemaName()
        let configuration = try PostgresDatabaseConfiguration(url: server.url, schema: name, maxConnections: 8, acquireTimeout: .seconds(30))
        let database = try await PostgresServiceDatabase.open(configuration: configuration, migrations: migrations, logger: .silent)
        pools.yield(database)
        return database
    }

    /// `t_` and 24 random hex digits.
    package static func freshSchemaName() -> String {
        "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    }

    struct MissingTrait: Error, CustomStringConvertible {
        var description: String { "this test needs PostgreSQL: mark its suite .postgresServer" }
    }

    /// Starts a cluster, runs `body` with the environment current, then stops every pool and
    /// removes the cluster.
    static func withEnvironment(_ body: () async throws -> Void) async throws {
        try await withPostgresServer { server in
            let (stream, continuation) = AsyncStream.makeStream(of: PostgresServiceDatabase.self)
            let environment = PostgresTestEnvironment(server: server, pools: continuation)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withDiscardingTaskGroup { pools in
                        for await database in stream {
                            pools.addTask { await database.run() }
                        }
                    }
                }
                defer {
                    continuation.finish()
                    group.cancelAll()
                }
                try await $current.withValue(environment) { try await body() }
            }
        }
    }
}

/// Gives a suite (and every test in it) a throwaway PostgreSQL cluster:
/// `PostgresTestEnvironment.required()` inside it.
package struct PostgresServerTrait: SuiteTrait, TestScoping {
    /// Not inherited: the suite's one scope covers its tests.
    package var isRecursive: Bool { false }

    package func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        test.isSuite ? self : nil
    }

    package func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await PostgresTestEnvironment.withEnvironment { try await function() }
    }
}

extension Trait where Self == PostgresServerTrait {
    /// A throwaway PostgreSQL cluster for this suite.
    package static var postgresServer: Self { PostgresServerTrait() }
}
