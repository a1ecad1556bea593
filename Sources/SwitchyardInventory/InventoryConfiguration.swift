package import Configuration
package import SwitchyardEventBus
package import SwitchyardRuntime
package import SwitchyardStorage

/// Everything the inventory service reads, all under `inventory.` (plus the shared
/// `data.directory`). Environment variables are `SWITCHYARD_` + the key in upper snake case.
package struct InventoryConfiguration: Sendable {
    /// The article's port.
    package static let defaultGRPCPort = 50051

    /// `inventory.grpc.*`: where GetStock and the reservation calls are served.
    package var grpc: GRPCServerConfiguration
    /// `inventory.database.path` (default `<data.directory>/inventory.sqlite`).
    package var databasePath: String
    /// `inventory.database.url`, else `database.url`: PostgreSQL instead of the SQLite file.
    /// Several replicas may share it, so GetStock then always reads the database
    /// (`cacheReads` applies to SQLite only).
    package var postgres: PostgresDatabaseConfiguration?
    /// `inventory.seedDemoCatalogue` (default true in `dev`, false in `serve`): add the
    /// README's demo SKUs that are missing on start.
    package var seedDemoCatalogue: Bool
    /// `inventory.reservations.ttlSeconds` (default 900): how long an unconfirmed reservation
    /// holds when the caller does not say.
    package var reservationTimeToLive: Duration
    /// `inventory.reservations.sweepIntervalSeconds` (default 5): how often expired
    /// reservations are swept back into stock.
    package var expirySweepInterval: Duration
    /// `inventory.database.cacheReads` (default true): answer GetStock from an in-memory read
    /// model of the stock table. Turn it off if anything but this service writes its database.
    package var cacheReads: Bool
    /// `bus.groups.inventory.*`: the group's retries, dead-lettering and leases.
    package var consumerOptions: ConsumerOptions

    package init(
        grpc: GRPCServerConfiguration = .init(port: defaultGRPCPort),
        databasePath: String,
        seedDemoCatalogue: Bool = false,
        reservationTimeToLive: Duration = ReservationRequest.defaultTimeToLive,
        expirySweepInterval: Duration = .seconds(5),
        cacheReads: Bool = true,
        consumerOptions: ConsumerOptions = ConsumerOptions(),
        postgres: PostgresDatabaseConfiguration? = nil
    ) {
        self.grpc = grpc
        self.databasePath = databasePath
        self.postgres = postgres
        self.seedDemoCatalogue = seedDemoCatalogue
        self.reservationTimeToLive = reservationTimeToLive
        self.expirySweepInterval = expirySweepInterval
        self.cacheReads = cacheReads
        self.consumerOptions = consumerOptions
    }

    /// - Parameters:
    ///   - reader: The process's reader (unscoped).
    ///   - seedDemoCatalogueByDefault: `true` for `dev`.
    /// - Throws: `ConfigurationValueError` naming a bad key.
    package init(reader: ConfigReader, seedDemoCatalogueByDefault: Bool) throws {
        let dataDirectory = DataDirectory(reader: reader)
        let ttl = try reader.positiveInt(forKey: "inventory.reservations.ttlSeconds", default: 900)
        let sweep = try reader.positiveInt(forKey: "inventory.reservations.sweepIntervalSeconds", default: 5)
        self.init(
            grpc: try GRPCServerConfiguration(reader: reader.scoped(to: "inventory.grpc"), defaultPort: Self.defaultGRPCPort),
            databasePath: reader.string(forKey: "inventory.database.path", default: dataDirectory.path(for: "inventory.sqlite")),
            seedDemoCatalogue: reader.bool(forKey: "inventory.seedDemoCatalogue", default: seedDemoCatalogueByDefault),
            reservationTimeToLive: .seconds(ttl),
            expirySweepInterval: .seconds(sweep),
            cacheReads: reader.bool(forKey: "inventory.database.cacheReads", default: true),
            consumerOptions: try ConsumerOptions(reader: reader, group: Self.consumerGroup),
            postgres: try PostgresDatabaseConfiguration.configured(reader: reader, service: "inventory")
        )
    }

    package static let settings: [ConfigurationSetting] =
        GRPCServerConfiguration.settings(prefix: "inventory.grpc", defaultPort: defaultGRPCPort) + [
            .init(key: "inventory.database.path", type: "string", defaultValue: "<data.directory>/inventory.sqlite", summary: "the inventory's SQLite file"),
            PostgresDatabaseConfiguration.settings(service: "inventory"),
            .init(key: "inventory.database.cacheReads", type: "bool", defaultValue: "true", summary: "answer GetStock from an in-memory read model; off if anything else writes the database (SQLite only: PostgreSQL always reads it)"),
            .init(key: "inventory.seedDemoCatalogue", type: "bool", defaultValue: "true in dev, false in serve", summary: "add the demo SKUs that are missing on start"),
            .init(key: "inventory.reservations.ttlSeconds", type: "int", defaultValue: "900", summary: "how long an unconfirmed reservation holds"),
            .init(key: "inventory.reservations.sweepIntervalSeconds", type: "int", defaultValue: "5", summary: "how often expired reservations return to stock"),
        ] + ConsumerOptions.settings(group: consumerGroup)

    /// The group inventory consumes `order.placed` in.
    static var consumerGroup: String { OrderPlacedHandler<SQLiteInventoryRepository>.group }
}
