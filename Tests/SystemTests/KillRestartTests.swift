import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import SwitchyardTestSupport
import Synchronization
import Testing

/// `switchyard dev` as a child process that the test kills with SIGKILL and starts again on the
/// same data directory; the gateway's port changes with each start.
private final class DevSystem: Sendable {
    let data: URL
    private let state = Mutex<(process: ManagedProcess?, url: String?)>((nil, nil))

    init(data: URL) { self.data = data }

    var url: String? { state.withLock { $0.url } }

    func start() async throws {
        let process = try ManagedProcess(
            name: "switchyard dev",
            executable: PackagePaths.switchyardBinary,
            arguments: [
                "dev", "--port", "0", "--inventory-port", "0", "--orders-port", "0", "--data-directory", data.path, "--log-level", "warning",
                // Reservations of attempts cut off by a kill come back soon, so the stock can be
                // checked at the end of the test.
                "--set", "inventory.reservations.ttlSeconds=20", "--set", "inventory.reservations.sweepIntervalSeconds=1",
                // Deliveries a killed process held come again well inside that TTL: with the
                // default 30 s lease, a confirmation could arrive after its reservation expired
                // (and be dead-lettered, rightly, with the stock back on the shelf).
                "--set", "bus.groups.inventory.ackTimeoutSeconds=3", "--set", "bus.groups.fulfillment.ackTimeoutSeconds=3",
                "--set", "bus.groups.orders.ackTimeoutSeconds=3",
            ]
        )
        state.withLock { $0.process = process }
        let port = try await process.waitForListeningPort("gateway HTTP", timeout: .seconds(120))
        state.withLock { $0.url = "http://127.0.0.1:\(port)" }
    }

    func kill() async throws {
        let process: ManagedProcess? = state.withLock { state in
            state.url = nil
            return state.process
        }
        process?.send(signal: SIGKILL)
        _ = try await process?.waitForExit()
    }

    func stop() async throws -> Int32? {
        guard let process = state.withLock({ $0.process }) else { return nil }
        process.send(signal: SIGTERM)
        return try await process.waitForExit(timeout: .seconds(60))
    }

    func forceStop() { state.withLock { $0.process }?.stop() }
}

@Suite("Crash safety")
struct KillRestartTests {
    @Test("kill -9 at random moments while 1,000 orders go in: every accepted order ships exactly once, and the stock adds up")
    func killAndRestart() async throws {
        let orderCount = 1000
        let system = DevSystem(data: try PackagePaths.makeTemporaryDirectory())
        defer { system.forceStop() }
        try await system.start()
        let initialStock = try await HTTPTestClient(baseURL: try #require(system.url)).get("/inventory/sku-5").json?["quantity"] as? Int
        #expect(initialStock == 1_000_000)

        let accepted = AcceptedOrders()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Clients: each order is retried with its own idempotency key until the gateway
            // gives an answer (201), as a client that lost its connection would.
            for worker in 0..<16 {
                group.addTask {
                    for number in stride(from: worker, to: orderCount, by: 16) {
                        let body = #"{"customerId": "c-\#(number % 50)", "lines": [{"sku": "sku-5", "quantity": 1, "unitPriceCents": 100}]}"#
                        while true {
                            if let url = system.url, let response = try? await HTTPTestClient(baseURL: url).placeOrder(key: "kill-\(number)", json: body) {
                                if response.status == 201, let id = response.json?["id"] as? String {
                                    accepted.record(number, id)
                                    break
                                }
                                #expect(response.status >= 500, "order \(number) refused: \(response.body)")
                                if response.status < 500 { break }
                            }
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
            }
            // The chaos: three times, at a random moment, kill -9 and start again.
            group.addTask {
                for _ in 0..<3 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 500...2500)))
                    try await system.kill()
                    try await system.start()
                }
            }
            try await group.waitForAll()
        }

        let ids = accepted.all
        #expect(ids.count == orderCount)
        #expect(Set(ids.values).count == orderCount, "one order per idempotency key")
        let http = HTTPTestClient(baseURL: try #require(system.url))

        // Every accepted order ships: no event was lost across the kills.
        try await eventually("every order to ship", timeout: .seconds(180)) {
            for id in ids.values {
                guard try await http.get("/orders?id=\(id)").json?["status"] as? String == "shipped" else { return false }
            }
            return true
        }
        // Exactly one shipment each: no event caused a double effect.
        let fulfillment = try DatabaseQueue(path: system.data.appendingPathComponent("fulfillment.sqlite").path)
        let perOrder = try await fulfillment.read { db in
            try Row.fetchAll(db, sql: "SELECT order_id, COUNT(*) AS n FROM shipments GROUP BY order_id").map { ($0["order_id"] as String, $0["n"] as Int) }
        }
        #expect(perOrder.count == orderCount)
        #expect(perOrder.allSatisfy { $0.1 == 1 })
        #expect(Set(perOrder.map(\.0)) == Set(ids.values))
        // The stock adds up: one unit per order, once the reservations of attempts a kill cut
        // off have expired.
        try await eventually("the stock to add up", timeout: .seconds(120)) {
            try await http.get("/inventory/sku-5").json?["quantity"] as? Int == 1_000_000 - orderCount
        }
        #expect(try await system.stop() == 0)
    }
}

/// Order ids by order number, recorded across client tasks.
private final class AcceptedOrders: Sendable {
    private let ids = Mutex<[Int: String]>([:])
    func record(_ number: Int, _ id: String) { ids.withLock { $0[number] = id } }
    var all: [Int: String] { ids.withLock { $0 } }
}
