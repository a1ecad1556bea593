import Foundation
package import Logging
package import ServiceLifecycle
package import SwitchyardEventBus
package import SwitchyardRuntime
import SwitchyardStorage

/// The orders service's composition root: opens and migrates its database, connects to
/// inventory, and returns its long-running parts in start order: the inventory client first
/// (up before anything calls it, down last), the release queue, the outbox relay (it outlives
/// the server at shutdown, so it flushes every order committed), the gRPC server, then the
/// consumer of `shipment.dispatched`.
///
/// - Parameters:
///   - configuration: Where to listen, store, and find inventory.
///   - inventory: How to reach inventory; the configured address unless told otherwise.
///   - bus: Where `order.placed` goes and `shipment.dispatched` comes from.
///   - logger: The service's logger.
///   - telemetry: How often its gauges are sampled.
///   - onListening: Called with the gRPC address once it serves.
package func makeOrdersServices(
    configuration: OrdersConfiguration,
    inventory: DownstreamTarget? = nil,
    bus: any EventBus,
    logger: Logger,
    telemetry: Telemetry = Telemetry(),
    onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
) async throws -> [any Service] {
    var logger = logger
    logger[metadataKey: "service"] = "orders"
    // PostgreSQL (shared by replicas) when configured, else the service's SQLite file; the
    // pool goes first, so it starts before and stops after everything that queries it.
    if let postgres = configuration.postgres {
        let database = try await PostgresServiceDatabase.open(configuration: postgres, migrations: PostgresOrdersRepository.migrations, logger: logger)
        return [database] + (try makeOrdersServices(
            configuration: configuration, repository: TracedOrdersRepository(PostgresOrdersRepository(database: database), system: "postgresql"),
            outbox: PostgresOutboxStore(database: database), inventory: inventory, bus: bus, logger: logger, telemetry: telemetry, onListening: onListening
        ))
    }
    let database = try SQLiteDatabase.open(
        configuration: .init(path: configuration.databasePath),
        migrations: SQLiteOrdersRepository.migrations,
        logger: logger
    )
    return try makeOrdersServices(
        configuration: configuration, repository: TracedOrdersRepository(SQLiteOrdersRepository(database: database), system: "sqlite"),
        outbox: SQLiteOutboxStore(database: database), inventory: inventory, bus: bus, logger: logger, telemetry: telemetry, onListening: onListening
    )
}

/// The orders service on one storage engine.
private func makeOrdersServices<Repository: OrdersRepository>(
    configuration: OrdersConfiguration,
    repository: Repository,
    outbox: any OutboxStore,
    inventory: DownstreamTarget?,
    bus: any EventBus,
    logger: Logger,
    telemetry: Telemetry,
    onListening: @escaping @Sendable (ListeningAddress) -> Void
) throws -> [any Service] {
    let inventoryClient = try GRPCClientService(
        name: "inventory",
        target: inventory ?? .address(configuration.inventory),
        transport: configuration.inventory.transport
    )
    let reservations = GRPCStockReservations(
        client: inventoryClient.client,
        policy: DownstreamCallPolicy(
            defaultTimeout: configuration.inventoryTimeout,
            bulkhead: Bulkhead(name: "inventory", maxConcurrent: configuration.inventoryMaxConcurrentCalls, maxQueued: configuration.inventoryMaxConcurrentCalls * 4),
            timeouts: inventoryClient.callTimeouts
        )
    )
    let releases = ReleaseQueue(reservations: reservations, logger: logger)
    let relay = OutboxRelay(store: outbox, bus: bus, logger: logger)
    let placement = OrderPlacement(repository: repository, reservations: reservations, releases: releases, afterCommit: { relay.wake() })
    let server = try GRPCServerService(
        name: "orders",
        configuration: configuration.grpc,
        services: [OrdersGRPCService(placement: placement, repository: repository)],
        logger: logger,
        onListening: onListening
    )
    let shipments = ShipmentDispatchedHandler(repository: repository, logger: logger)
    let consumer = EventConsumerService(bus: bus, group: ShipmentDispatchedHandler<Repository>.group, topics: ShipmentDispatchedHandler<Repository>.topics, options: configuration.consumerOptions, logger: logger) { event in
        try await shipments.handle(event)
    }
    let gauges = GaugeSamplingService(
        probes: [EventGaugeProbes.outbox(outbox, service: "orders")]
            + EventGaugeProbes.consumer(bus: bus, group: ShipmentDispatchedHandler<Repository>.group, topics: ShipmentDispatchedHandler<Repository>.topics),
        interval: telemetry.sampleInterval,
        logger: logger
    )
    return [inventoryClient, releases, relay, server, consumer, gauges]
}
