import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwitchyardTestSupport
import Synchronization
import Testing

/// Starting real processes: the `switchyard` binary and Python peers from the project venv.
enum SystemHarness {
    static let pythonDirectory = PackagePaths.root.appendingPathComponent("Tests/SystemTests/Python")

    /// Starts `switchyard serve inventory` on a free port with its own data directory.
    static func startInventory(dataDirectory: URL, extraArguments: [String] = []) async throws -> (ManagedProcess, Int) {
        let process = try ManagedProcess(
            name: "switchyard serve inventory",
            executable: PackagePaths.switchyardBinary,
            arguments: ["serve", "inventory", "--port", "0", "--seed-demo-catalogue", "--data-directory", dataDirectory.path, "--log-level", "notice"]
                + extraArguments
        )
        let port = try await process.waitForListeningPort("inventory gRPC")
        return (process, port)
    }

    /// The venv's Python, or a failure telling how to create it.
    static func python() throws -> URL {
        let python = PackagePaths.python
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw SetupMissing(what: "the project venv (\(python.path)); run scripts/test or scripts/ensure-python-tools")
        }
        return python
    }

    /// Generates Python stubs for the article's .proto into a fresh directory, as a Python
    /// team would with grpc_tools.protoc, and returns that directory.
    static func generateArticleStubs() async throws -> URL {
        let output = try PackagePaths.makeTemporaryDirectory(prefix: "article-stubs")
        let protoc = try ManagedProcess(
            name: "grpc_tools.protoc",
            executable: try python(),
            arguments: [
                "-m", "grpc_tools.protoc", "-I", pythonDirectory.appendingPathComponent("proto").path,
                "--python_out=\(output.path)", "--grpc_python_out=\(output.path)", "inventory.proto",
            ]
        )
        let status = try await protoc.waitForExit(timeout: .seconds(120))
        guard status == 0 else { throw ProcessExited(name: protoc.name, status: status, stdout: protoc.standardOutput, stderr: protoc.standardError) }
        return output
    }

    /// Runs a Python script from Tests/SystemTests/Python to completion and returns its stdout.
    static func runPython(_ script: String, _ arguments: [String], stubs: URL? = nil) async throws -> String {
        let process = try ManagedProcess(
            name: script,
            executable: try python(),
            arguments: [pythonDirectory.appendingPathComponent(script).path] + arguments,
            environment: stubs.map { ["PYTHONPATH": $0.path] } ?? [:]
        )
        let status = try await process.waitForExit(timeout: .seconds(120))
        guard status == 0 else { throw ProcessExited(name: script, status: status, stdout: process.standardOutput, stderr: process.standardError) }
        return process.standardOutput
    }
}

struct SetupMissing: Error, CustomStringConvertible {
    var what: String
    var description: String { "missing \(what)" }
}

/// The four services as separate `switchyard serve` processes on loopback, each with its own
/// data directory, all on one event bus (`--bus`): a deployment as operators run it, with
/// nothing shared but the bus and gRPC.
final class ServeDeployment: Sendable {
    let inventory: ManagedProcess
    let orders: ManagedProcess
    let fulfillment: ManagedProcess
    let gateway: ManagedProcess
    let dataDirectories: [String: URL]
    let gatewayURL: String

    /// In the order they stop: the edge first, the service everyone depends on last.
    var processes: [ManagedProcess] { [gateway, fulfillment, orders, inventory] }

    private init(processes: [String: ManagedProcess], dataDirectories: [String: URL], gatewayPort: Int) throws {
        guard let inventory = processes["inventory"], let orders = processes["orders"], let fulfillment = processes["fulfillment"],
            let gateway = processes["gateway"]
        else { throw SetupMissing(what: "a service process") }
        self.inventory = inventory
        self.orders = orders
        self.fulfillment = fulfillment
        self.gateway = gateway
        self.dataDirectories = dataDirectories
        self.gatewayURL = "http://127.0.0.1:\(gatewayPort)"
    }

    /// Starts inventory, orders, fulfillment and the gateway, each once the ones it calls
    /// listen, every one with `--bus bus` and `--set` for each of `settings`.
    static func start(bus: String, settings: [String] = [], logLevel: String = "notice") async throws -> ServeDeployment {
        var started: [String: ManagedProcess] = [:]
        var directories: [String: URL] = [:]
        func serve(_ service: String, _ arguments: [String]) throws -> ManagedProcess {
            let data = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-\(service)")
            directories[service] = data
            let process = try ManagedProcess(
                name: "switchyard serve \(service)",
                executable: PackagePaths.switchyardBinary,
                arguments: ["serve", service] + arguments + ["--bus", bus, "--data-directory", data.path, "--log-level", logLevel]
                    + settings.flatMap { ["--set", $0] }
            )
            started[service] = process
            return process
        }
        do {
            let inventoryPort = try await serve("inventory", ["--port", "0", "--seed-demo-catalogue"])
                .waitForListeningPort("inventory gRPC", timeout: .seconds(120))
            let ordersPort = try await serve("orders", ["--port", "0", "--inventory", "127.0.0.1:\(inventoryPort)"])
                .waitForListeningPort("orders gRPC", timeout: .seconds(120))
            _ = try await serve("fulfillment", [])
                .waitForOutput(matching: "fulfillment consuming order.placed as group fulfillment", timeout: .seconds(120))
            let gatewayPort = try await serve("gateway", ["--port", "0", "--orders", "127.0.0.1:\(ordersPort)", "--inventory", "127.0.0.1:\(inventoryPort)"])
                .waitForListeningPort("gateway HTTP", timeout: .seconds(120))
            return try ServeDeployment(processes: started, dataDirectories: directories, gatewayPort: gatewayPort)
        } catch {
            for process in started.values { process.stop() }
            throw error
        }
    }

    /// A service's SQLite file, e.g. `database("fulfillment")` → …/fulfillment.sqlite.
    func database(_ service: String) -> String {
        (dataDirectories[service] ?? URL(fileURLWithPath: "/nonexistent")).appendingPathComponent("\(service).sqlite").path
    }

    /// SIGTERM to every process, then each one's exit status, by service.
    func terminate() async throws -> [String: Int32] {
        for process in processes { process.send(signal: SIGTERM) }
        var statuses: [String: Int32] = [:]
        for process in processes {
            statuses[process.name] = try await process.waitForExit(timeout: .seconds(60))
        }
        return statuses
    }

    /// SIGKILL whatever still runs (the `defer` of a failed test).
    func forceStop() {
        for process in processes { process.stop() }
    }

    /// Every process's stderr, for failure messages.
    var logs: String {
        processes.map { "--- \($0.name) (running: \($0.isRunning)) stderr ---\n\($0.standardError.suffix(6000))" }.joined(separator: "\n")
    }
}

/// An order the gateway accepted (201), as its body described it.
struct AcceptedOrder: Sendable, Hashable {
    var id: String
    var customerId: String
    var totalCents: Int
    var createdAt: String

    init?(json: [String: Any]?) {
        guard let json, let id = json["id"] as? String, let customerId = json["customerId"] as? String,
            let totalCents = json["totalCents"] as? Int, let createdAt = json["createdAt"] as? String
        else { return nil }
        self.id = id
        self.customerId = customerId
        self.totalCents = totalCents
        self.createdAt = createdAt
    }
}

/// Accepted orders by order number, recorded across client tasks.
final class AcceptedOrderLog: Sendable {
    private let orders = Mutex<[Int: AcceptedOrder]>([:])
    func record(_ number: Int, _ order: AcceptedOrder) { orders.withLock { $0[number] = order } }
    var all: [Int: AcceptedOrder] { orders.withLock { $0 } }
    var count: Int { orders.withLock { $0.count } }
}

/// An order that kept failing for longer than a test retries it.
struct OrderNotAccepted: Error, CustomStringConvertible {
    var number: Int
    var status: Int
    var body: String
    var description: String { "order \(number) still not accepted after 120 s; last answer \(status) \(body)" }
}

/// A switch one task flips and others read: "stop placing orders".
final class StopSignal: Sendable {
    private let stopped = Atomic<Bool>(false)
    func stop() { stopped.store(true, ordering: .relaxed) }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }
}

extension SystemHarness {
    /// The body of order `number`: one unit of sku-5, at a price that makes each order's total
    /// its own (so a mixed-up total in an event shows).
    static func orderBody(_ number: Int) -> String {
        #"{"customerId": "c-\#(number % 20)", "lines": [{"sku": "sku-5", "quantity": 1, "unitPriceCents": \#(100 + number)}]}"#
    }

    /// Places orders 0, 1, 2, … (below `limit`) through the gateway at `gatewayURL` from
    /// `clients` concurrent clients, each order with its own idempotency key
    /// `<keyPrefix>-<number>`, until `stop` is flipped. With `retrying`, an order that fails in
    /// transit or with a 5xx is sent again with the same key until it gets its 201, as a client
    /// that lost its answer would; without, anything but a 201 is a failure of the test.
    /// `pause` spaces each client's orders, so a test that needs orders to keep flowing for a
    /// while does not run up thousands.
    static func placeOrders(
        gatewayURL: String,
        limit: Int,
        clients: Int,
        keyPrefix: String,
        retrying: Bool,
        pause: Duration? = nil,
        stop: StopSignal = StopSignal(),
        into log: AcceptedOrderLog
    ) async throws {
        let http = HTTPTestClient(baseURL: gatewayURL)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    for number in stride(from: client, to: limit, by: clients) {
                        if stop.isStopped { return }
                        // A service that never comes back must fail the test, not hang it.
                        let giveUp = ContinuousClock.now.advanced(by: .seconds(120))
                        while true {
                            let response: HTTPTestResponse
                            do {
                                response = try await http.placeOrder(key: "\(keyPrefix)-\(number)", json: orderBody(number))
                            } catch {
                                guard retrying, ContinuousClock.now < giveUp else { throw error }
                                try await Task.sleep(for: .milliseconds(100))  // back off, then the same key again
                                continue
                            }
                            if retrying && response.status >= 500 && ContinuousClock.now >= giveUp {
                                throw OrderNotAccepted(number: number, status: response.status, body: response.body)
                            }
                            if response.status == 201, let order = AcceptedOrder(json: response.json) {
                                log.record(number, order)
                                break
                            }
                            #expect(retrying && response.status >= 500, "order \(number): \(response.status) \(response.body)")
                            guard retrying && response.status >= 500 else { break }
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        if let pause { try await Task.sleep(for: pause) }
                    }
                }
            }
            // The first failure ends the others (leaving the group cancels them), where
            // waitForAll would wait for clients that may be retrying forever.
            for try await _ in group {}
        }
    }
}
