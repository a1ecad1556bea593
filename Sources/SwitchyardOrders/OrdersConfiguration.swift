package import Configuration
package import SwitchyardEventBus
package import SwitchyardRuntime
package import SwitchyardStorage

/// Everything the orders service reads, under `orders.` (plus the shared `data.directory`).
package struct OrdersConfiguration: Sendable {
    package static let defaultGRPCPort = 50052

    /// `orders.grpc.*`: where orders.Orders is served.
    package var grpc: GRPCServerConfiguration
    /// `orders.database.path` (default `<data.directory>/orders.sqlite`).
    package var databasePath: String
    /// `orders.database.url`, else `database.url`: PostgreSQL instead of the SQLite file.
    package var postgres: PostgresDatabaseConfiguration?
    /// `orders.inventory.host` / `.port` / `.transport`: the inventory service, and the
    /// client's HTTP/2 implementation (default `switchyard`).
    package var inventory: GRPCClientConfiguration
    /// `orders.inventory.timeoutMilliseconds` (default 2000): a call's timeout when the
    /// caller set no deadline.
    package var inventoryTimeout: Duration
    /// `orders.inventory.maxConcurrentCalls` (default 64): the bulkhead in front of inventory.
    package var inventoryMaxConcurrentCalls: Int
    /// `bus.groups.orders.*`: the group's retries, dead-lettering and leases.
    package var consumerOptions: ConsumerOptions

    package init(
        grpc: GRPCServerConfiguration = .init(port: defaultGRPCPort),
        databasePath: String,
        inventory: GRPCClientConfiguration = .init(port: 50051),
        inventoryTimeout: Duration = .seconds(2),
        inventoryMaxConcurrentCalls: Int = 64,
        consumerOptions: ConsumerOptions = ConsumerOptions(),
        postgres: PostgresDatabaseConfiguration? = nil
    ) {
        self.grpc = grpc
        self.databasePath = databasePath
        self.postgres = postgres
        self.inventory = inventory
        self.inventoryTimeout = inventoryTimeout
        self.inventoryMaxConcurrentCalls = inventoryMaxConcurrentCalls
        self.consumerOptions = consumerOptions
    }

    /// - Parameters:
    ///   - reader: The process's reader (unscoped).
    ///   - inventoryPort: Where inventory listens unless configured otherwise.
    package init(reader: ConfigReader, inventoryPort: Int = 50051) throws {
        let dataDirectory = DataDirectory(reader: reader)
        let timeout = try reader.positiveInt(forKey: "orders.inventory.timeoutMilliseconds", default: 2000)
        let limit = try reader.positiveInt(forKey: "orders.inventory.maxConcurrentCalls", default: 64)
        self.init(
            grpc: try GRPCServerConfiguration(reader: reader.scoped(to: "orders.grpc"), defaultPort: Self.defaultGRPCPort),
            databasePath: reader.string(forKey: "orders.database.path", default: dataDirectory.path(for: "orders.sqlite")),
            inventory: GRPCClientConfiguration(
                host: reader.string(forKey: "orders.inventory.host", default: "127.0.0.1"),
                port: try reader.port(forKey: "orders.inventory.port", default: inventoryPort),
                transport: try GRPCClientConfiguration.transport(reader: reader, key: "orders.inventory.transport"),
                replicas: try GRPCClientConfiguration.replicas(reader: reader, key: "orders.inventory.addresses")
            ),
            inventoryTimeout: .milliseconds(timeout),
            inventoryMaxConcurrentCalls: limit,
            consumerOptions: try ConsumerOptions(reader: reader, group: Self.consumerGroup),
            postgres: try PostgresDatabaseConfiguration.configured(reader: reader, service: "orders")
        )
    }

    package static let settings: [ConfigurationSetting] =
        GRPCServerConfiguration.settings(prefix: "orders.grpc", defaultPort: defaultGRPCPort) + [
            .init(key: "orders.database.path", type: "string", defaultValue: "<data.directory>/orders.sqlite", summary: "the orders service's SQLite file"),
            PostgresDatabaseConfiguration.settings(service: "orders"),
            .init(key: "orders.inventory.host", type: "string", defaultValue: "127.0.0.1", summary: "where the inventory service listens"),
            .init(key: "orders.inventory.port", type: "int", defaultValue: "50051 (dev: inventory's port)", summary: "the inventory service's gRPC port"),
            GRPCClientConfiguration.transportSetting(key: "orders.inventory.transport", downstream: "inventory"),
            GRPCClientConfiguration.replicasSetting(key: "orders.inventory.addresses", downstream: "inventory"),
            .init(key: "orders.inventory.timeoutMilliseconds", type: "int", defaultValue: "2000", summary: "timeout of a call to inventory when no request deadline applies"),
            .init(key: "orders.inventory.maxConcurrentCalls", type: "int", defaultValue: "64", summary: "bulkhead: calls to inventory in flight at once"),
        ] + ConsumerOptions.settings(group: consumerGroup)

    /// The group orders consumes `shipment.dispatched` in.
    static var consumerGroup: String { ShipmentDispatchedHandler<SQLiteOrdersRepository>.group }
}
