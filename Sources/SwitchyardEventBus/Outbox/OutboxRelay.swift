import Foundation
package import GRDB
package import Logging
import ServiceLifecycle

/// Publishes what a service's outbox holds, oldest first, in batches, and removes each batch
/// once the bus has stored it. A crash between the two only means the batch is published
/// again on restart, and the bus ignores event ids it already has: at least once, no
/// duplicates. On graceful shutdown it flushes what is queued before stopping.
package final class OutboxRelay: Service, Sendable {
    private let database: DatabasePool
    private let bus: any EventBus
    private let logger: Logger
    private let batchSize: Int
    private let pollInterval: Duration
    private let notifier = EventNotifier()

    /// - Parameters:
    ///   - database: The service's database (with `Outbox.registerMigration` applied).
    ///   - bus: Where events go.
    ///   - batchSize: Events per publish.
    ///   - pollInterval: The longest the relay waits between looks when nobody calls `wake()`.
    package init(database: DatabasePool, bus: any EventBus, logger: Logger, batchSize: Int = 500, pollInterval: Duration = .milliseconds(200)) {
        self.database = database
        self.bus = bus
        self.logger = logger
        self.batchSize = max(1, batchSize)
        self.pollInterval = pollInterval
    }

    /// Tells the relay the outbox has something new (call after committing a transaction
    /// that enqueued events), so it does not wait for its next poll.
    package func wake() {
        notifier.notifyAll()
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let generation = notifier.generation
                let published = await relayBatchLoggingFailures()
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
        let pending = try await database.read { db in try Outbox.pending(limit: self.batchSize, in: db) }
        guard let last = pending.last else { return 0 }
        try await bus.publish(pending.map(\.event))
        try await database.write { db in try Outbox.remove(through: last.position, in: db) }
        return pending.count
    }
}
