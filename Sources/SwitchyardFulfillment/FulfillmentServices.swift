import Foundation
package import Logging
package import ServiceLifecycle
package import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardStorage

/// Fulfillment's composition root: its database, the outbox relay, and the consumer instances
/// of group `fulfillment`.
///
/// - Returns: the relay first (it outlives the consumers at shutdown, so it flushes what they
///   committed), then the consumers.
package func makeFulfillmentServices(
    configuration: FulfillmentConfiguration,
    bus: any EventBus,
    logger: Logger
) async throws -> [any Service] {
    let repository: any ShipmentRepository
    let relay: OutboxRelay
    var storage: [any Service] = []
    if let postgres = configuration.postgres {
        // The pool first: it starts before and stops after everything that queries it.
        let database = try await PostgresServiceDatabase.open(configuration: postgres, migrations: PostgresShipmentRepository.migrations, logger: logger)
        repository = PostgresShipmentRepository(database: database)
        relay = OutboxRelay(store: PostgresOutboxStore(database: database), bus: bus, logger: logger)
        storage = [database]
    } else {
        let database = try SQLiteDatabase.open(
            configuration: .init(path: configuration.databasePath),
            migrations: SQLiteShipmentRepository.migrations,
            logger: logger
        )
        repository = SQLiteShipmentRepository(database: database)
        relay = OutboxRelay(database: database, bus: bus, logger: logger)
    }
    let handler = FulfillmentOrderPlacedHandler(repository: repository, logger: logger, afterCommit: { relay.wake() })
    let consumers: [any Service] = (0..<configuration.consumers).map { _ in
        EventConsumerService(bus: bus, group: FulfillmentOrderPlacedHandler.group, topics: FulfillmentOrderPlacedHandler.topics, options: configuration.consumerOptions, logger: logger) { event in
            try await handler.handle(event)
        }
    }
    return storage + [relay] + consumers
}
