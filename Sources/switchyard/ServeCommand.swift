import ArgumentParser
import ServiceLifecycle
import SwitchyardInventory
import SwitchyardRuntime

/// `switchyard serve <service>`: one service per process, for deployments that run each on
/// its own. One subcommand per service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service in this process.",
        subcommands: [ServeInventoryCommand.self]
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

    @Option(help: "SQLite file (inventory.database.path, default <data.directory>/inventory.sqlite).")
    var database: String?

    @Flag(help: "Add the demo SKUs that are missing (inventory.seedDemoCatalogue).")
    var seedDemoCatalogue = false

    func run() async throws {
        let (reader, logger) = try await options.bootstrap(
            adding: [
                "inventory.grpc.host": host,
                "inventory.grpc.port": port.map(String.init),
                "inventory.database.path": database,
                "inventory.seedDemoCatalogue": seedDemoCatalogue ? "true" : nil,
            ],
            label: "switchyard.inventory"
        )
        let configuration = try InventoryConfiguration(reader: reader, seedDemoCatalogueByDefault: false)
        let services = try await makeInventoryServices(configuration: configuration, logger: logger) { address in
            Console.announce("inventory gRPC listening on \(address)")
        }
        try await ServiceGroup.switchyard(services: services, logger: logger).run()
    }
}
