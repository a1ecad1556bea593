import ArgumentParser
import ServiceLifecycle
import SwitchyardInventory
import SwitchyardRuntime

/// `switchyard dev`: every service in one process on the embedded defaults (SQLite), on the
/// article's fixed loopback ports. Composition only: each service builds itself.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the whole system in one process on the embedded defaults."
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "Inventory gRPC port (inventory.grpc.port, default 50051).")
    var inventoryPort: Int?

    func run() async throws {
        let (reader, logger) = try await options.bootstrap(
            adding: ["inventory.grpc.port": inventoryPort.map(String.init)],
            label: "switchyard.dev"
        )
        let inventory = try InventoryConfiguration(reader: reader, seedDemoCatalogueByDefault: true)
        let services = try await makeInventoryServices(configuration: inventory, logger: logger) { address in
            Console.announce("inventory gRPC listening on \(address)  (try: grpcurl -plaintext -d '{\"sku\":\"sku-1\"}' \(address) inventory.Inventory/GetStock)")
        }
        try await ServiceGroup.switchyard(services: services, logger: logger).run()
    }
}
