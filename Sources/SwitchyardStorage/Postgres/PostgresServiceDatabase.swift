import Foundation
package import Logging
package import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A service's PostgreSQL database: a postgres-nio connection pool in front of one schema.
///
/// It is a `Service` whose `run()` owns the pool, so it goes first in the service's list: it
/// starts before anything queries it and stops after everything else (the outbox relay's
/// last flush included).
///
/// ```swift
/// let database = try await PostgresServiceDatabase.open(configuration: configuration, migrations: OrdersMigrations.postgres, logger: logger)
/// let repository = PostgresOrdersRepository(database: database)
/// return [database, …services using repository…]
/// ```
///
/// Every call fails with `DatabaseUnavailableError` (gRPC `UNAVAILABLE`, HTTP 503) when the
/// server cannot be reached, quickly rather than when the request's deadline runs out; the
/// pool keeps reconnecting in the background, so the service recovers by itself once the
/// server is back.
package final class PostgresServiceDatabase: Service, Sendable {
    package let configuration: PostgresDatabaseConfiguration
    private let client: PostgresClient
    private let logger: Logger
    /// Set by a call that found the server unreachable, cleared by one that got a connection.
    /// While set, calls wait only `outageAcquireTimeout` for a connection: the pool is already
    /// reconnecting in the background, and a caller that retries (the gateway retries
    /// idempotent calls) should hear "unavailable" within its deadline, not after a full
    /// acquire timeout per attempt.
    private let outage = Atomic<Bool>(false)
    /// The acquire and call timeouts of the calls under way, swept while the pool runs.
    private let timeouts = DatabaseCallTimeouts()

    /// The wait for a connection while the server is known to be unreachable.
    static var outageAcquireTimeout: Duration { .milliseconds(100) }

    /// A database whose pool runs once `run()` does; it runs no migrations (see `open`).
    package init(configuration: PostgresDatabaseConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var background = logger
        background[metadataKey: "switchyard.database"] = "\(configuration.redactedDescription)"
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: background)
    }

    /// Runs the pool until cancelled or, gracefully, until the group shuts down.
    package func run() async {
        await runningPool()
    }

    /// The pool, and the sweep that enforces its calls' timeouts for as long as it runs.
    private func runningPool() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.timeouts.run() }
            await client.run()
            group.cancelAll()
        }
    }

    /// Migrates the database and returns a database for the service to run.
    ///
    /// Migrations run through a short-lived pool of their own (a pool runs once, and the
    /// service's must run inside its ServiceGroup), so the schema is current before the service
    /// takes its first request. A server that is not up yet is waited for, up to
    /// `startupTimeout`: replicas started together with their database come up once it does.
    ///
    /// - Parameters:
    ///   - configuration: Where the database is.
    ///   - migrations: The service's schema, versioned.
    ///   - logger: Receives one line naming the database and the migrations applied.
    ///   - startupTimeout: How long to wait for an unreachable server.
    ///   - prepare: Runs after the migrations on the short-lived pool (seeding, say).
    package static func open(
        configuration: PostgresDatabaseConfiguration,
        migrations: [PostgresMigration],
        logger: Logger,
        startupTimeout: Duration = .seconds(60),
        prepare: (PostgresServiceDatabase) async throws -> Void = { _ in }
    ) async throws -> PostgresServiceDatabase {
        let setup = PostgresServiceDatabase(configuration: configuration, logger: logger)
        try await setup.whileRunning {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: startupTimeout)
            var wait = Duration.milliseconds(100)
            while true {
                do {
                    let applied = try await setup.migrate(migrations)
                    logger.info(
                        "database ready",
                        metadata: [
                            "switchyard.database": "\(configuration.redactedDescription)",
                            "switchyard.database.migrations.applied": "\(applied)",
                        ]
                    )
                    break
                } catch let error as DatabaseUnavailableError where clock.now.advanced(by: wait) < deadline {
                    logger.warning("database not reachable yet; retrying", metadata: ["switchyard.database": "\(configuration.redactedDescription)", "switchyard.error": "\(error.reason)"])
                    try await Task.sleep(for: wait)
                    wait = min(wait * 2, .seconds(2))
                }
            }
            try await prepare(setup)
        }
        return PostgresServiceDatabase(configuration: configuration, logger: logger)
    }

    /// Runs this database's pool for as long as `body` runs: for setup work before the
    /// service's own ServiceGroup starts, and for tests. A pool runs once, so a database used
    /// here cannot also be a service.
    package func whileRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.runningPool() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    // MARK: - Running statements

    /// Runs `body` on a pooled connection.
    ///
    /// - Throws: `DatabaseUnavailableError` when no connection could be had within the acquire
    ///   timeout, the call took longer than the call timeout, or the connection failed;
    ///   whatever `body` throws otherwise.
    package func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let acquireTimeout = outage.load(ordering: .relaxed) ? min(configuration.acquireTimeout, Self.outageAcquireTimeout) : configuration.acquireTimeout
        let callTimeout = max(configuration.callTimeout, acquireTimeout)
        let now = ContinuousClock.now
        let leased = LeaseFlag()
        let handle = CallHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let once = ResumeOnce(continuation)
                let description = configuration.redactedDescription
                let id = timeouts.watch(
                    .init(acquireDeadline: now + acquireTimeout, callDeadline: now + callTimeout, leased: leased) { limit in
                        let error: DatabaseUnavailableError
                        switch limit {
                        case .acquire:
                            error = DatabaseUnavailableError(reason: "no connection to \(description) within \(acquireTimeout)")
                        case .call:
                            self.logger.warning("database call abandoned: no answer within the call timeout", metadata: ["switchyard.database": "\(description)"])
                            error = DatabaseUnavailableError(reason: "no answer from \(description) within \(callTimeout)")
                        }
                        if once.resume(with: .failure(error)) {
                            self.outage.store(true, ordering: .relaxed)
                            handle.cancel()
                        }
                    }
                )
                // The call runs in a task of its own, which the caller stops waiting for when a
                // limit passes: a postgres-nio call on a connection the server cut can fail to
                // return (and to notice cancellation), and a structured child would hold the
                // caller with it.
                handle.start(
                    Task {
                        let result: Result<T, any Error>
                        do {
                            result = .success(
                                try await self.mappingConnectionFailures {
                                    try await self.client.withConnection { connection in
                                        leased.value.store(true, ordering: .relaxed)
                                        self.outage.store(false, ordering: .relaxed)
                                        return try await body(connection)
                                    }
                                }
                            )
                        } catch {
                            result = .failure(error)
                        }
                        self.timeouts.forget(id)
                        once.resume(with: result)
                    }
                )
            }
        } onCancel: {
            handle.cancel()
        }
    }

    /// Runs `body` in a transaction on a pooled connection: committed when it returns, rolled
    /// back when it throws, and the body's own error rethrown as it was.
    ///
    /// - Parameter retries: How often to run the whole transaction again when the server
    ///   aborted it to break a deadlock or a serialization conflict (which can only happen
    ///   between concurrent writers, such as replicas of one service).
    package func transaction<T: Sendable>(retries: Int = 3, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await withConnection { connection in
                    try await Self.inTransaction(connection, logger: self.logger, body)
                }
            } catch let error as PSQLError where attempt < retries && Self.isTransientConflict(error) {
                attempt += 1
                logger.debug("transaction conflict; retrying", metadata: ["switchyard.error": "\(String(reflecting: error))"])
            }
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK on error, rethrowing the body's error rather than
    /// postgres-nio's transaction wrapper, so domain errors thrown inside keep their type.
    static func inTransaction<T: Sendable>(
        _ connection: PostgresConnection,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        let value: T
        do {
            value = try await body(connection)
        } catch {
            // A failed rollback means the connection is gone, and the server rolls back itself.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        try await connection.query("COMMIT", logger: logger)
        return value
    }

    /// The logger statements run with.
    package var queryLogger: Logger { logger }

    private func mappingConnectionFailures<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseUnavailableError {
            outage.store(true, ordering: .relaxed)
            throw error
        } catch where DatabaseUnavailableError.isConnectionFailure(error) {
            outage.store(true, ordering: .relaxed)
            logger.warning("database unavailable", metadata: ["switchyard.database": "\(configuration.redactedDescription)", "switchyard.error": "\(String(reflecting: error))"])
            throw DatabaseUnavailableError(reason: String(describing: error))
        }
    }

    /// 40001 (serialization failure) and 40P01 (deadlock detected): the server aborted the
    /// transaction, and running it again is the documented remedy.
    static func isTransientConflict(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// 23505: a unique constraint refused a row, e.g. two replicas inserting one key at once.
    package static func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return error.serverInfo?[.sqlState] == "23505"
    }
}

/// The task running one call, which the caller's cancellation (or a broken limit) cancels,
/// whether it comes before the task is started or after.
private final class CallHandle: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func start(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}

/// A continuation resumed by whichever of several racers comes first; the rest are ignored.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    /// - Returns: Whether this call resumed it.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let first = continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        first?.resume(with: result)
        return first != nil
    }
}
