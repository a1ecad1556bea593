import ArgumentParser
import ServiceLifecycle
import SwitchyardEventBus
import SwitchyardFulfillment
import SwitchyardGateway
import SwitchyardInventory
import SwitchyardOrders
import SwitchyardRuntime

/// `switchyard serve <service>`: one service per process, for deployments that run each on
/// its own. One subcommand per service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service in this process.",
        subcommands: [ServeGatewayCommand.self, ServeOrdersCommand.self, ServeInventoryCommand.self, ServeFulfillmentCommand.self]
    )
}

struct ServeInventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Serve inventory.Inventory over gRPC (stock and reservations)."
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "Address to bind (inventory.grpc.host, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free one and prints it (inventory.grpc.port, default 50051).")
    var port: Int?

    @Option(help: "postgres://user@host:port/db (inventory.database.url), or a SQLite file (inventory.database.path, default <data.directory>/inventory.sqlite).")
    var database: String?

    @Flag(help: "Add the demo SKUs that are missing (inventory.seedDemoCatalogue).")
    var seedDemoCatalogue = false

    func run() async throws {
        let setup = try await options.bootstrap(
            adding: [
                "inventory.grpc.host": host,
                "inventory.grpc.port": port.map(String.init),
                "inventory.database.path": DatabaseOption.path(database),
                "inventory.database.url": DatabaseOption.url(database),
                "inventory.seedDemoCatalogue": seedDemoCatalogue ? "true" : nil,
            ],
            label: "switchyard.inventory",
            serviceName: "inventory"
        )
        let (reader, logger) = (setup.reader, setup.logger)
        let configuration = try InventoryConfiguration(reader: reader, seedDemoCatalogueByDefault: false)
        let (bus, busServices) = try await EventBusConfiguration(reader: reader).open(logger: logger)
        let services = try await makeInventoryServices(configuration: configuration, bus: bus, logger: logger, telemetry: setup.telemetry) { address in
            Console.announce("inventory gRPC listening on \(address)")
        }
        try await ServiceGroup.switchyard(services: setup.servingTelemetry(reader: reader, service: "inventory") + busServices + services, logger: logger).run()
    }
}

struct ServeOrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Serve orders.Orders over gRPC (place, get and list orders)."
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "Address to bind (orders.grpc.host, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free one and prints it (orders.grpc.port, default 50052).")
    var port: Int?

    @Option(help: "postgres://user@host:port/db (orders.database.url), or a SQLite file (orders.database.path, default <data.directory>/orders.sqlite).")
    var database: String?

    @Option(help: "The inventory service: host:port, several host:port,host:port (round robin over replicas), or dns:host:port (orders.inventory.*, default 127.0.0.1:50051).")
    var inventory: String?

    func run() async throws {
        let setup = try await options.bootstrap(
            adding: [
                "orders.grpc.host": host,
                "orders.grpc.port": port.map(String.init),
                "orders.database.path": DatabaseOption.path(database),
                "orders.database.url": DatabaseOption.url(database),
            ].merging(try DownstreamOption.values(inventory, scope: "orders.inventory"), uniquingKeysWith: { _, new in new }),
            label: "switchyard.orders",
            serviceName: "orders"
        )
        let (reader, logger) = (setup.reader, setup.logger)
        let (bus, busServices) = try await EventBusConfiguration(reader: reader).open(logger: logger)
        let services = try await makeOrdersServices(configuration: OrdersConfiguration(reader: reader), bus: bus, logger: logger, telemetry: setup.telemetry) { address in
            Console.announce("orders gRPC listening on \(address)")
        }
        try await ServiceGroup.switchyard(services: setup.servingTelemetry(reader: reader, service: "orders") + busServices + services, logger: logger).run()
    }
}

struct ServeGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve the public REST API (orders, inventory, health, OpenAPI)."
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "Address to bind (gateway.http.host, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free one and prints it (gateway.http.port, default 8080).")
    var port: Int?

    @Option(help: "The orders service: host:port, several host:port,host:port (round robin over replicas), or dns:host:port (gateway.orders.*, default 127.0.0.1:50052).")
    var orders: String?

    @Option(help: "The inventory service: host:port, several host:port,host:port, or dns:host:port (gateway.inventory.*, default 127.0.0.1:50051).")
    var inventory: String?

    func run() async throws {
        let setup = try await options.bootstrap(
            adding: [
                "gateway.http.host": host,
                "gateway.http.port": port.map(String.init),
            ].merging(
                try DownstreamOption.values(orders, scope: "gateway.orders").merging(try DownstreamOption.values(inventory, scope: "gateway.inventory"), uniquingKeysWith: { _, new in new }),
                uniquingKeysWith: { _, new in new }
            ),
            label: "switchyard.gateway",
            serviceName: "gateway"
        )
        let (reader, logger) = (setup.reader, setup.logger)
        let services = try makeGatewayServices(configuration: GatewayConfiguration(reader: reader), logger: logger, telemetry: setup.telemetry) { address in
            Console.announce("gateway HTTP listening on \(address)")
        }
        try await ServiceGroup.switchyard(services: setup.telemetryServices + services, logger: logger).run()
    }
}

struct ServeFulfillmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment",
        abstract: "Ship placed orders: consumer group fulfillment, publishing shipment.dispatched."
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "postgres://user@host:port/db (fulfillment.database.url), or a SQLite file (fulfillment.database.path, default <data.directory>/fulfillment.sqlite).")
    var database: String?

    func run() async throws {
        let setup = try await options.bootstrap(
            adding: ["fulfillment.database.path": DatabaseOption.path(database), "fulfillment.database.url": DatabaseOption.url(database)],
            label: "switchyard.fulfillment",
            serviceName: "fulfillment"
        )
        let (reader, logger) = (setup.reader, setup.logger)
        let (bus, busServices) = try await EventBusConfiguration(reader: reader).open(logger: logger)
        let services = try await makeFulfillmentServices(configuration: FulfillmentConfiguration(reader: reader), bus: bus, logger: logger, telemetry: setup.telemetry)
        Console.announce("fulfillment consuming order.placed as group fulfillment")
        try await ServiceGroup.switchyard(services: setup.servingTelemetry(reader: reader, service: "fulfillment") + busServices + services, logger: logger).run()
    }
}

/// `host:port` as typed on the command line.
struct HostAndPort {
    var host: String
    var port: Int

    init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("expected host:port, got '\(text)'")
        }
        self.host = String(text[..<colon])
        self.port = port
    }
}
