import Foundation
package import GRDB
package import Logging
import ServiceLifecycle

/// Publishes what a service's outbox holds, oldest first, in batches, and removes each batch
/// once the bus has stored it. A crash between the two only means the batch is published
/// again on restart, and the bus ignores event ids it already has: at least once, no
/// duplicates. On graceful shutdown it flushes what is queued before stopping.
package final class OutboxRelay: Service, Sendable {
    private let store: any OutboxStore
    private let bus: any EventBus
    private let logger: Logger
    private let batchSize: Int
    private let pollInterval: Duration
    private let notifier = EventNotifier()

    /// - Parameters:
    ///   - store: The service's outbox (SQLite, or PostgreSQL shared by replicas).
    ///   - bus: Where events go.
    ///   - batchSize: Events per publish.
    ///   - pollInterval: The longest the relay waits between looks when nobody calls `wake()`.
    package init(store: any OutboxStore, bus: any EventBus, logger: Logger, batchSize: Int = 500, pollInterval: Duration = .milliseconds(200)) {
        self.store = store
        self.bus = bus
        self.logger = logger
        self.batchSize = max(1, batchSize)
        self.pollInterval = pollInterval
    }

    /// A relay of the outbox in a SQLite database (with `Outbox.registerMigration` applied).
    package convenience init(database: DatabasePool, bus: any EventBus, logger: Logger, batchSize: Int = 500, pollInterval: Duration = .milliseconds(200)) {
        self.init(store: SQLiteOutboxStore(database: database), bus: bus, logger: logger, batchSize: batchSize, pollInterval: pollInterval)
    }

    /// Tells the relay the outbox has something new (call after committing a transaction
    /// that enqueued events), so it does not wait for its next poll.
    package func wake() {
        notifier.notifyAll()
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            // Consecutive failures (the bus or the database is down): the wait between tries
            // doubles up to `maxFailureBackoff`, so an outage is retried, not hammered.
            var failures = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let generation = notifier.generation
                let published: Int
                do {
                    published = try await relayBatch()
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("outbox relay could not publish; retrying", metadata: ["switchyard.error": "\(error)", "switchyard.outbox.failures": "\(failures)"])
                    try? await Task.sleep(for: min(pollInterval * (1 << min(failures, 6)), Self.maxFailureBackoff))
                    continue
                }
                if published == 0 { await notifier.wait(since: generation, timeout: pollInterval) }
            }
        } onGracefulShutdown: {
            self.notifier.notifyAll()
        }
        // Flush: the process is stopping, but what the service committed should go out now.
        if !Task.isCancelled {
            while await relayBatchLoggingFailures() > 0 {}
        }
    }

    /// The longest wait between tries while publishing fails.
    static var maxFailureBackoff: Duration { .seconds(5) }

    /// Publishes one batch; returns how many events it published (0 on failure: retry later).
    private func relayBatchLoggingFailures() async -> Int {
        do {
            return try await relayBatch()
        } catch {
            logger.warning("outbox relay could not publish; retrying", metadata: ["switchyard.error": "\(error)"])
            return 0
        }
    }

    /// Publishes the oldest batch and removes it from the outbox.
    package func relayBatch() async throws -> Int {
        let bus = self.bus
        // Each event in a producer span continuing the trace it was stored with.
        return try await store.relayBatch(limit: batchSize) { events in try await EventTracing.publish(events, to: bus) }
    }
}
