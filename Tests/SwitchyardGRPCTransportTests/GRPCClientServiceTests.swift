import GRPCCore
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

/// The runtime's client wiring on both transport kinds: a client found through the address
/// book (as in `switchyard dev`), before and after its server publishes.
@Suite("GRPCClientService: transports and published addresses")
struct GRPCClientServiceTests {
    @Test("A client on a published target waits for the address, then calls through it", arguments: GRPCClientTransportKind.allCases)
    func publishedTarget(kind: GRPCClientTransportKind) async throws {
        let book = ServiceAddressBook()
        let server = try GRPCServerService(
            name: "echo",
            configuration: .init(port: 0, transport: .switchyard),
            services: [EchoService()],
            logger: .silent,
            onListening: { address in book.publish(address, for: "echo") }
        )
        let client = try GRPCClientService(name: "echo", target: .published(service: "echo", book: book), transport: kind)
        // The client first: it runs before its downstream has an address, as in dev mode.
        try await withRunningServices([client, server]) { _ in
            let reply = try await eventually("a call through the published address", timeout: .seconds(30)) {
                try? await client.client.rawCall("Unary", [4], options: .timeout(.seconds(20), waitForReady: true)).message
            }
            #expect(reply == [4])
        }
    }

    @Test("<scope>.transport: switchyard by default, grpc-nio from the environment or command line, anything else refused")
    func transportKey() async throws {
        let defaults = try await SwitchyardConfigReader.make(environment: [:])
        #expect(try GRPCClientConfiguration.transport(reader: defaults, key: "gateway.orders.transport") == .switchyard)

        let fromEnvironment = try await SwitchyardConfigReader.make(environment: ["SWITCHYARD_GATEWAY_ORDERS_TRANSPORT": "grpc-nio"])
        #expect(try GRPCClientConfiguration.transport(reader: fromEnvironment, key: "gateway.orders.transport") == .grpcNIO)
        #expect(try GRPCClientConfiguration.transport(reader: fromEnvironment, key: "orders.inventory.transport") == .switchyard)

        let bad = try await SwitchyardConfigReader.make(commandLine: ["orders.inventory.transport": "nio"], environment: [:])
        #expect(throws: ConfigurationValueError.self) {
            try GRPCClientConfiguration.transport(reader: bad, key: "orders.inventory.transport")
        }
    }
}
