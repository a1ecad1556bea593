import Foundation
package import Logging
package import ServiceLifecycle
package import SwitchyardEventBus
package import SwitchyardRuntime
import SwitchyardStorage

/// Fulfillment's composition root: its database, the outbox relay, and the consumer instances
/// of group `fulfillment`.
///
/// - Returns: the relay first (it outlives the consumers at shutdown, so it flushes what they
///   committed), then the consumers.
package func makeFulfillmentServices(
    configuration: FulfillmentConfiguration,
    bus: any EventBus,
    logger: Logger,
    telemetry: Telemetry = Telemetry()
) async throws -> [any Service] {
    var logger = logger
    logger[metadataKey: "service"] = "fulfillment"
    let repository: any ShipmentRepository
    let outbox: any OutboxStore
    var storage: [any Service] = []
    if let postgres = configuration.postgres {
        // The pool first: it starts before and stops after everything that queries it.
        let database = try await PostgresServiceDatabase.open(configuration: postgres, migrations: PostgresShipmentRepository.migrations, logger: logger)
        repository = TracedShipmentRepository(PostgresShipmentRepository(database: database), system: "postgresql")
        outbox = PostgresOutboxStore(database: database)
        storage = [database]
    } else {
        let database = try SQLiteDatabase.open(
            configuration: .init(path: configuration.databasePath),
            migrations: SQLiteShipmentRepository.migrations,
            logger: logger
        )
        repository = TracedShipmentRepository(SQLiteShipmentRepository(database: database), system: "sqlite")
        outbox = SQLiteOutboxStore(database: database)
    }
    let relay = OutboxRelay(store: outbox, bus: bus, logger: logger)
    let handler = FulfillmentOrderPlacedHandler(repository: repository, logger: logger, afterCommit: { relay.wake() })
    let consumers: [any Service] = (0..<configuration.consumers).map { _ in
        EventConsumerService(bus: bus, group: FulfillmentOrderPlacedHandler.group, topics: FulfillmentOrderPlacedHandler.topics, options: configuration.consumerOptions, logger: logger) { event in
            try await handler.handle(event)
        }
    }
    let gauges = GaugeSamplingService(
        probes: [EventGaugeProbes.outbox(outbox, service: "fulfillment")]
            + EventGaugeProbes.consumer(bus: bus, group: FulfillmentOrderPlacedHandler.group, topics: FulfillmentOrderPlacedHandler.topics),
        interval: telemetry.sampleInterval,
        logger: logger
    )
    return storage + [relay] + consumers + [gauges]
}
