import Foundation
package import Logging
package import ServiceLifecycle
package import SwitchyardEventBus
package import SwitchyardRuntime
import SwitchyardStorage

/// The inventory service's composition root: opens and migrates its database, seeds the
/// demo catalogue when asked, and returns its long-running parts in start order.
///
/// - Parameters:
///   - configuration: Where to listen and store.
///   - bus: Where `order.placed` comes from (it confirms reservations); without one, nothing
///     confirms them and unconfirmed reservations expire.
///   - logger: The service's logger.
///   - telemetry: How often its gauges are sampled.
///   - onListening: Called with the gRPC address once it serves.
/// - Returns: The gRPC server, the reservation expiry sweep, the consumer of `order.placed`,
///   then the gauge sampler.
package func makeInventoryServices(
    configuration: InventoryConfiguration,
    bus: (any EventBus)? = nil,
    logger: Logger,
    telemetry: Telemetry = Telemetry(),
    onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
) async throws -> [any Service] {
    var logger = logger
    logger[metadataKey: "service"] = "inventory"
    // PostgreSQL (shared by replicas) when configured, else the service's SQLite file.
    if let postgres = configuration.postgres {
        let database = try await PostgresServiceDatabase.open(configuration: postgres, migrations: PostgresInventoryRepository.migrations, logger: logger) { setup in
            if configuration.seedDemoCatalogue { try await PostgresInventoryRepository(database: setup).seed(DemoCatalogue.stock) }
        }
        let repository = TracedInventoryRepository(PostgresInventoryRepository(database: database), system: "postgresql")
        return [database] + (try makeInventoryServices(configuration: configuration, repository: repository, bus: bus, logger: logger, telemetry: telemetry, onListening: onListening))
    }
    let database = try SQLiteDatabase.open(
        configuration: .init(path: configuration.databasePath),
        migrations: SQLiteInventoryRepository.migrations,
        logger: logger
    )
    let repository = try SQLiteInventoryRepository(database: database, cachedReads: configuration.cacheReads)
    if configuration.seedDemoCatalogue {
        try await repository.seed(DemoCatalogue.stock)
    }
    return try makeInventoryServices(
        configuration: configuration, repository: TracedInventoryRepository(repository, system: "sqlite"), bus: bus, logger: logger,
        telemetry: telemetry, onListening: onListening
    )
}

/// The inventory service on one storage engine.
private func makeInventoryServices<Repository: InventoryRepository>(
    configuration: InventoryConfiguration,
    repository: Repository,
    bus: (any EventBus)?,
    logger: Logger,
    telemetry: Telemetry,
    onListening: @escaping @Sendable (ListeningAddress) -> Void
) throws -> [any Service] {
    let clock: @Sendable () -> Date = { Date() }
    let server = try GRPCServerService(
        name: "inventory",
        configuration: configuration.grpc,
        services: [
            InventoryGRPCService(repository: repository, defaultTimeToLive: configuration.reservationTimeToLive, now: clock)
        ],
        logger: logger,
        onListening: onListening
    )
    let expiry = ReservationExpiryService(repository: repository, interval: configuration.expirySweepInterval, logger: logger, now: clock)
    let outstanding = GaugeProbe(label: "switchyard.inventory.reservations.outstanding", dimensions: [("service.name", "inventory")]) {
        try await repository.outstandingReservations()
    }
    guard let bus else {
        return [server, expiry, GaugeSamplingService(probes: [outstanding], interval: telemetry.sampleInterval, logger: logger)]
    }
    let placed = OrderPlacedHandler(repository: repository, logger: logger)
    let consumer = EventConsumerService(bus: bus, group: OrderPlacedHandler<Repository>.group, topics: OrderPlacedHandler<Repository>.topics, options: configuration.consumerOptions, logger: logger) { event in
        try await placed.handle(event)
    }
    let gauges = GaugeSamplingService(
        probes: [outstanding] + EventGaugeProbes.consumer(bus: bus, group: OrderPlacedHandler<Repository>.group, topics: OrderPlacedHandler<Repository>.topics),
        interval: telemetry.sampleInterval,
        logger: logger
    )
    return [server, expiry, consumer, gauges]
}
