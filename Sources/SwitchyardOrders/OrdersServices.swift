import Foundation
package import Logging
package import ServiceLifecycle
package import SwitchyardRuntime
import SwitchyardStorage

/// The orders service's composition root: opens and migrates its database, connects to
/// inventory, and returns its long-running parts in start order (the inventory client first,
/// so it is up before anything calls it, and stops last).
///
/// - Parameters:
///   - configuration: Where to listen, store, and find inventory.
///   - inventory: How to reach inventory; the configured address unless told otherwise.
///   - logger: The service's logger.
///   - onListening: Called with the gRPC address once it serves.
package func makeOrdersServices(
    configuration: OrdersConfiguration,
    inventory: DownstreamTarget? = nil,
    logger: Logger,
    onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
) async throws -> [any Service] {
    let database = try SQLiteDatabase.open(
        configuration: .init(path: configuration.databasePath),
        migrations: SQLiteOrdersRepository.migrations,
        logger: logger
    )
    let repository = SQLiteOrdersRepository(database: database)
    let inventoryClient = try GRPCClientService(name: "inventory", target: inventory ?? .address(configuration.inventory))
    let reservations = GRPCStockReservations(
        client: inventoryClient.client,
        policy: DownstreamCallPolicy(
            defaultTimeout: configuration.inventoryTimeout,
            bulkhead: Bulkhead(name: "inventory", maxConcurrent: configuration.inventoryMaxConcurrentCalls, maxQueued: configuration.inventoryMaxConcurrentCalls * 4)
        )
    )
    let releases = ReleaseQueue(reservations: reservations, logger: logger)
    let placement = OrderPlacement(repository: repository, reservations: reservations, releases: releases)
    let server = try GRPCServerService(
        name: "orders",
        configuration: configuration.grpc,
        services: [OrdersGRPCService(placement: placement, repository: repository)],
        logger: logger,
        onListening: onListening
    )
    return [inventoryClient, releases, server]
}
