package import GRPCCore
package import Foundation
import ServiceLifecycle
package import SwitchyardEventBus
import SwitchyardFulfillment
package import SwitchyardGateway
import SwitchyardInventory
import SwitchyardOrders
package import SwitchyardRuntime

/// What stands in for inventory in a test.
package enum InventoryStandIn: Sendable {
    /// The real inventory service on SQLite with the demo catalogue.
    case real
    /// A gRPC server hosting these services instead (health and reflection added).
    case custom([any RegistrableRPCService])
    /// Nothing listens where the others look for inventory.
    case unreachable
}

/// The system of `switchyard dev`, in the test's process: inventory (or a stand-in), orders,
/// fulfillment and the gateway, each on 127.0.0.1 port 0, finding one another through an
/// address book, with an embedded event bus in a temporary directory.
package struct LocalSystem: Sendable {
    package let book: ServiceAddressBook
    package let bus: SQLiteEventBus
    /// Where the services keep their databases.
    package let dataDirectory: URL

    package var inventoryPort: Int? { book.address(of: "inventory")?.port }
    package var ordersPort: Int? { book.address(of: "orders")?.port }
    package var gatewayPort: Int? { book.address(of: "gateway")?.port }
    package var gatewayURL: String { "http://127.0.0.1:\(gatewayPort ?? 0)" }
}

/// Runs a `LocalSystem` for the duration of `body`, then shuts it down gracefully.
///
/// - Parameters:
///   - inventory: The real inventory or a stand-in.
///   - withGateway: Whether to run the gateway too.
///   - gateway: Adjusts the gateway's configuration (timeouts, bulkheads).
package func withLocalSystem(
    inventory standIn: InventoryStandIn = .real,
    withGateway: Bool = true,
    gateway adjust: (inout GatewayConfiguration) -> Void = { _ in },
    body: (LocalSystem) async throws -> Void
) async throws {
    let data = try PackagePaths.makeTemporaryDirectory()
    let book = ServiceAddressBook()
    let (bus, _) = try EventBusConfiguration(path: data.appendingPathComponent("events.sqlite").path).openEmbedded(logger: .silent)
    var services: [any Service] = []
    switch standIn {
    case .real:
        services += try await makeInventoryServices(
            configuration: InventoryConfiguration(
                grpc: .init(port: 0),
                databasePath: data.appendingPathComponent("inventory.sqlite").path,
                seedDemoCatalogue: true
            ),
            bus: bus,
            logger: .silent
        ) { book.publish($0, for: "inventory") }
    case .custom(let rpcServices):
        services.append(try GRPCServerService(name: "inventory", configuration: .init(port: 0), services: rpcServices, logger: .silent) {
            book.publish($0, for: "inventory")
        })
    case .unreachable:
        book.publish(ListeningAddress(host: "127.0.0.1", port: try freeLoopbackPort()), for: "inventory")
    }
    // Deadlines are generous here: the full suite runs many systems at once on a small machine,
    // and these tests check behaviour, not speed. Deadline tests set their own.
    services += try await makeOrdersServices(
        configuration: OrdersConfiguration(
            grpc: .init(port: 0),
            databasePath: data.appendingPathComponent("orders.sqlite").path,
            inventoryTimeout: .seconds(15)
        ),
        inventory: .published(service: "inventory", book: book),
        bus: bus,
        logger: .silent
    ) { book.publish($0, for: "orders") }
    services += try await makeFulfillmentServices(
        configuration: FulfillmentConfiguration(databasePath: data.appendingPathComponent("fulfillment.sqlite").path),
        bus: bus,
        logger: .silent
    )
    if withGateway {
        var configuration = GatewayConfiguration(port: 0, requestTimeout: .seconds(15))
        adjust(&configuration)
        services += try makeGatewayServices(
            configuration: configuration,
            orders: .published(service: "orders", book: book),
            inventory: .published(service: "inventory", book: book),
            logger: .silent
        ) { book.publish($0, for: "gateway") }
    }
    try await withRunningServices(services) { _ in
        if case .unreachable = standIn {} else {
            _ = try await eventually("inventory to listen") { book.address(of: "inventory") }
        }
        _ = try await eventually("orders to listen") { book.address(of: "orders") }
        if withGateway { _ = try await eventually("the gateway to listen") { book.address(of: "gateway") } }
        try await body(LocalSystem(book: book, bus: bus, dataDirectory: data))
    }
}
