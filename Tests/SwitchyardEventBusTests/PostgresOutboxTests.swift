import Foundation
import GRDB
import Logging
import PostgresNIO
import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardStorage
import SwitchyardTestSupport
import Synchronization
import Testing

/// An outbox with a way to queue events, on each engine.
enum OutboxKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh outbox: its store, and a function queueing events in a transaction.
    func make() async throws -> (store: any OutboxStore, enqueue: @Sendable ([EventEnvelope]) async throws -> Void) {
        switch self {
        case .sqlite:
            var migrator = DatabaseMigrator()
            Outbox.registerMigration(in: &migrator)
            let directory = try PackagePaths.makeTemporaryDirectory()
            let pool = try SQLiteDatabase.open(configuration: .init(path: directory.appendingPathComponent("outbox.sqlite").path), migrations: migrator, logger: .silent)
            return (SQLiteOutboxStore(database: pool), { events in try await pool.write { db in try Outbox.enqueue(events, in: db) } })
        case .postgres:
            let database = try await PostgresTestEnvironment.required().makeDatabase(migrations: [PostgresOutbox.migration(version: 1)])
            return (PostgresOutboxStore(database: database), { events in try await Self.enqueue(events, in: database) })
        }
    }

    static func enqueue(_ events: [EventEnvelope], in database: PostgresServiceDatabase) async throws {
        try await database.transaction { connection in try await PostgresOutbox.enqueue(events, on: connection, logger: database.queryLogger) }
    }
}

/// Every id a test's "bus" was handed, in order, duplicates included.
private final class PublishedLog: Sendable {
    private let ids = Mutex<[String]>([])
    var all: [String] { ids.withLock { $0 } }
    func publish(_ events: [EventEnvelope]) { ids.withLock { $0 += events.map(\.id) } }
}

private func events(_ count: Int, prefix: String = "e") -> [EventEnvelope] {
    (0..<count).map { index in
        EventEnvelope(
            id: "\(prefix)-\(String(format: "%04d", index))", type: "order.placed", source: "/test", time: Date(unixMilliseconds: 1_800_000_000_000 + Int64(index)),
            subject: "o\(index)", payload: Array(#"{"n":\#(index)}"#.utf8), extensions: index % 2 == 0 ? ["traceparent": "00-abc-def-01"] : [:]
        )
    }
}

@Suite("Outbox stores", .postgresServer)
struct OutboxStoreTests {
    @Test("A relay hands over every queued event once, oldest first, exactly as stored", arguments: OutboxKind.allCases)
    func relaysInOrder(kind: OutboxKind) async throws {
        let (store, enqueue) = try await kind.make()
        let queued = events(25)
        try await enqueue(queued)
        let received = Mutex<[EventEnvelope]>([])
        var batches = 0
        while try await store.relayBatch(limit: 10, publish: { batch in received.withLock { $0 += batch } }) > 0 { batches += 1 }
        #expect(batches == 3)
        #expect(received.withLock { $0 } == queued)
        #expect(try await store.relayBatch(limit: 10, publish: { _ in Issue.record("the outbox should be empty") }) == 0)
    }

    @Test("A batch whose publish fails stays queued and goes out on the next try", arguments: OutboxKind.allCases)
    func failedPublishKeepsEvents(kind: OutboxKind) async throws {
        struct BusDown: Error {}
        let (store, enqueue) = try await kind.make()
        try await enqueue(events(3))
        await #expect(throws: BusDown.self) {
            try await store.relayBatch(limit: 10) { _ in throw BusDown() }
        }
        let log = PublishedLog()
        #expect(try await store.relayBatch(limit: 10) { log.publish($0) } == 3)
        #expect(log.all == events(3).map(\.id))
    }

    @Test("Replicas' relays on one PostgreSQL outbox publish every event exactly once")
    func replicasPublishOnce() async throws {
        let environment = try PostgresTestEnvironment.required()
        let schema = PostgresTestEnvironment.freshSchemaName()
        let migrations = [PostgresOutbox.migration(version: 1)]
        // Three replicas: three pools on one schema.
        var stores: [PostgresOutboxStore] = []
        var databases: [PostgresServiceDatabase] = []
        for _ in 0..<3 {
            let database = try await environment.makeDatabase(migrations: migrations, schema: schema)
            databases.append(database)
            stores.append(PostgresOutboxStore(database: database))
        }
        let log = PublishedLog()
        let total = 600
        let writers = databases
        let relays = stores
        // Writers keep queueing while the relays run, as a service under load does.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for chunk in 0..<20 {
                    try await OutboxKind.enqueue(events(total / 20, prefix: "c\(chunk)"), in: writers[chunk % 3])
                }
            }
            for store in relays {
                group.addTask {
                    try await eventually("every event published", timeout: .seconds(120), interval: .milliseconds(1)) {
                        _ = try await store.relayBatch(limit: 7) { batch in
                            // A little time inside the transaction, so batches overlap.
                            try await Task.sleep(for: .milliseconds(2))
                            log.publish(batch)
                        }
                        return log.all.count >= total
                    }
                }
            }
            try await group.waitForAll()
        }
        let ids = log.all
        #expect(ids.count == total, "published \(ids.count) for \(total) queued: some twice")
        #expect(Set(ids).count == total)
    }

    @Test("Rows a dead replica's relay held are published by another, and the rest never wait for them")
    func deadReplicaDoesNotStall() async throws {
        let environment = try PostgresTestEnvironment.required()
        let schema = PostgresTestEnvironment.freshSchemaName()
        let survivor = try await environment.makeDatabase(migrations: [PostgresOutbox.migration(version: 1)], schema: schema)
        try await OutboxKind.enqueue(events(20), in: survivor)
        let store = PostgresOutboxStore(database: survivor)
        let log = PublishedLog()
        // The dying replica: a connection of its own (no pool) that claims the five oldest rows
        // mid-batch and then does nothing, as a relay frozen or killed between its claim and its
        // commit. Nothing below waits on it again: a replica killed with -9 never answers, and
        // an earlier version of this test, which awaited the dying side's pooled connection after
        // its backend was terminated, once hung the whole run on it.
        let dying = try await PostgresConnection.connect(
            configuration: .init(host: "127.0.0.1", port: environment.server.port, username: "postgres", password: nil, database: "postgres", tls: .disable),
            id: 1, logger: .silent
        )
        defer { Task { try? await dying.close() } }
        try await dying.query("SET search_path TO \(unescaped: schema)", logger: .silent)
        try await dying.query("BEGIN", logger: .silent)
        var claimed = 0
        for try await _ in try await dying.query("SELECT position FROM outbox ORDER BY position LIMIT 5 FOR UPDATE SKIP LOCKED", logger: .silent).decode(Int64.self) {
            claimed += 1
        }
        #expect(claimed == 5)
        var pid: Int32?
        for try await backend in try await dying.query("SELECT pg_backend_pid()", logger: .silent).decode(Int32.self) {
            pid = backend
        }
        let dyingPID = try #require(pid)
        // The survivor publishes everything else without waiting for those locks.
        try await eventually("the unheld rows published", timeout: .seconds(60)) {
            _ = try await store.relayBatch(limit: 4) { log.publish($0) }
            return log.all.count == 15
        }
        #expect(Set(log.all) == Set(events(20).suffix(15).map(\.id)))
        // The dying replica's connection is cut, as a killed process has its cut.
        _ = try await survivor.withConnection { connection in
            try await connection.query("SELECT pg_terminate_backend(\(dyingPID))", logger: survivor.queryLogger)
        }
        try await eventually("the dead replica's rows published", timeout: .seconds(60)) {
            _ = try await store.relayBatch(limit: 4) { log.publish($0) }
            return log.all.count >= 20
        }
        #expect(log.all.count == 20)
        #expect(Set(log.all) == Set(events(20).map(\.id)))
    }

    @Test("Replicas migrating one schema at once apply each migration once")
    func concurrentMigrations() async throws {
        let environment = try PostgresTestEnvironment.required()
        let schema = PostgresTestEnvironment.freshSchemaName()
        let migrations = [
            PostgresOutbox.migration(version: 1),
            PostgresInbox.migration(version: 2),
            PostgresMigration(version: 3, name: "marker", statements: ["CREATE TABLE marker (n INTEGER)", "INSERT INTO marker VALUES (1)"]),
        ]
        let databases = try await withThrowingTaskGroup(of: PostgresServiceDatabase.self) { group in
            for _ in 0..<6 {
                group.addTask { try await environment.makeDatabase(migrations: migrations, schema: schema) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let database = try #require(databases.first)
        let (versions, markers) = try await database.withConnection { connection in
            var versions: [Int] = []
            for try await version in try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: database.queryLogger).decode(Int.self) {
                versions.append(version)
            }
            var markers = 0
            for try await count in try await connection.query("SELECT COUNT(*) FROM marker", logger: database.queryLogger).decode(Int.self) {
                markers = count
            }
            return (versions, markers)
        }
        #expect(versions == [1, 2, 3])
        #expect(markers == 1)
        // Running them again later applies nothing.
        #expect(try await database.migrate(migrations) == [])
    }
}

@Suite("PostgreSQL going away")
struct PostgresOutageTests {
    @Test("A call that never returns fails as unavailable at the call timeout, and the next call is served", .timeLimit(.minutes(1)))
    func callThatNeverReturns() async throws {
        try await withPostgresServer { server in
            var configuration = try PostgresDatabaseConfiguration(url: server.url, schema: "stuck", maxConnections: 4)
            configuration.callTimeout = .milliseconds(300)
            let database = try await PostgresServiceDatabase.open(configuration: configuration, migrations: [PostgresOutbox.migration(version: 1)], logger: .silent)
            try await database.whileRunning {
                // A body that ignores cancellation and never ends: what a postgres-nio call on a
                // connection the server cut can look like to its caller.
                let never = Latch()
                await #expect(throws: DatabaseUnavailableError.self) {
                    try await database.withConnection { _ in await never.wait() }
                }
                let backlog = try await PostgresOutbox.backlog(in: database)
                #expect(backlog == 0)
                never.open()
            }
        }
    }

    @Test("Calls fail as unavailable while the server is down, and the same pool recovers when it is back")
    func failsThenRecovers() async throws {
        try await withPostgresServer { server in
            // A generous acquire timeout: a starved machine may take seconds to connect; once the pool
            // knows the server is down, calls fail within 100 ms whatever this says.
            let configuration = try PostgresDatabaseConfiguration(url: server.url, schema: "outage", maxConnections: 4, acquireTimeout: .seconds(10))
            let database = try await PostgresServiceDatabase.open(configuration: configuration, migrations: [PostgresOutbox.migration(version: 1)], logger: .silent)
            try await database.whileRunning {
                try await OutboxKind.enqueue(events(1), in: database)
                #expect(try await PostgresOutbox.backlog(in: database) == 1)
                try await server.stop()
                // Several calls, each must end (no hang) with the clear error.
                for _ in 0..<3 {
                    await #expect(throws: DatabaseUnavailableError.self) {
                        _ = try await PostgresOutbox.backlog(in: database)
                    }
                }
                try await server.restart()
                let backlog = try await eventually("the pool to reconnect", timeout: .seconds(120), interval: .milliseconds(200)) {
                    try? await PostgresOutbox.backlog(in: database)
                }
                #expect(backlog == 1)
                try await OutboxKind.enqueue(events(1, prefix: "after"), in: database)
                #expect(try await PostgresOutbox.backlog(in: database) == 2)
            }
        }
    }
}
