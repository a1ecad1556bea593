import ArgumentParser
import ServiceLifecycle
import SwitchyardEventBus
import SwitchyardFulfillment
import SwitchyardGateway
import SwitchyardInventory
import SwitchyardOrders
import SwitchyardRuntime

/// `switchyard dev`: every service in one process on the embedded defaults (SQLite databases
/// and the SQLite event log), on the article's fixed loopback ports. Composition only: each
/// service builds itself; they find one another through an address book, so any port may be 0.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the whole system in one process on the embedded defaults."
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "Gateway HTTP port (gateway.http.port, default 8080).")
    var port: Int?

    @Option(help: "Inventory gRPC port (inventory.grpc.port, default 50051).")
    var inventoryPort: Int?

    @Option(help: "Orders gRPC port (orders.grpc.port, default 50052).")
    var ordersPort: Int?

    @Option(help: "postgres://user@host:port/db: every service on PostgreSQL, each in its own schema (database.url); SQLite files when absent.")
    var database: String?

    func run() async throws {
        let setup = try await options.bootstrap(
            adding: [
                "gateway.http.port": port.map(String.init),
                "inventory.grpc.port": inventoryPort.map(String.init),
                "orders.grpc.port": ordersPort.map(String.init),
                "database.url": database,
            ],
            label: "switchyard.dev",
            serviceName: "switchyard-dev"
        )
        let (reader, logger, telemetry) = (setup.reader, setup.logger, setup.telemetry)
        let (bus, busServices) = try await EventBusConfiguration(reader: reader).open(logger: logger)
        let book = ServiceAddressBook()
        let inventory = try await makeInventoryServices(
            configuration: InventoryConfiguration(reader: reader, seedDemoCatalogueByDefault: true),
            bus: bus,
            logger: logger,
            telemetry: telemetry
        ) { address in
            book.publish(address, for: "inventory")
            Console.announce("inventory gRPC listening on \(address)")
        }
        let orders = try await makeOrdersServices(
            configuration: OrdersConfiguration(reader: reader),
            inventory: .published(service: "inventory", book: book),
            bus: bus,
            logger: logger,
            telemetry: telemetry
        ) { address in
            book.publish(address, for: "orders")
            Console.announce("orders gRPC listening on \(address)")
        }
        let fulfillment = try await makeFulfillmentServices(configuration: FulfillmentConfiguration(reader: reader), bus: bus, logger: logger, telemetry: telemetry)
        let gateway = try makeGatewayServices(
            configuration: GatewayConfiguration(reader: reader),
            orders: .published(service: "orders", book: book),
            inventory: .published(service: "inventory", book: book),
            logger: logger,
            telemetry: telemetry
        ) { address in
            Console.announce("gateway HTTP listening on \(address)  (try: curl 'http://\(address)/inventory')")
        }
        // Dependency order: the span exporter (if any), the bus (its retention sweep or NATS connection), inventory, orders, fulfillment, then the
        // gateway; shutdown runs in reverse, so the edge stops taking requests first and the
        // outbox relays flush before the services behind them stop.
        try await ServiceGroup.switchyard(services: setup.telemetryServices + busServices + inventory + orders + fulfillment + gateway, logger: logger).run()
    }
}
