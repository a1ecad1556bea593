import Foundation
package import Logging
package import ServiceLifecycle
package import SwitchyardRuntime
import SwitchyardStorage

/// The inventory service's composition root: opens and migrates its database, seeds the
/// demo catalogue when asked, and returns its long-running parts in start order.
///
/// - Parameters:
///   - configuration: Where to listen and store.
///   - logger: The service's logger.
///   - onListening: Called with the gRPC address once it serves.
/// - Returns: The gRPC server, then the reservation expiry sweep.
package func makeInventoryServices(
    configuration: InventoryConfiguration,
    logger: Logger,
    onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
) async throws -> [any Service] {
    let database = try SQLiteDatabase.open(
        configuration: .init(path: configuration.databasePath),
        migrations: SQLiteInventoryRepository.migrations,
        logger: logger
    )
    let repository = try SQLiteInventoryRepository(database: database, cachedReads: configuration.cacheReads)
    if configuration.seedDemoCatalogue {
        try await repository.seed(DemoCatalogue.stock)
    }
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
    return [server, expiry]
}
