import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardGateway
import SwitchyardTestSupport
import Testing

@Suite("Deadlines and bulkheads at the gateway")
struct GatewayResilienceTests {
    @Test("When inventory hangs, /inventory/{sku} answers 504 at the deadline, excess calls 503 at once, and /orders?id= stays served")
    func hangingInventory() async throws {
        let inventory = HangingInventoryService()
        // Long enough that, even on a machine busy running every other test, all 30 requests
        // are inside the gateway and the lookup below is done well before any deadline passes.
        let timeout = Duration.seconds(20)
        try await withLocalSystem(inventory: .custom([inventory])) { configuration in
            configuration.requestTimeout = timeout
            configuration.inventoryMaxConcurrentCalls = 4  // and 16 may queue
        } body: { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            try await withThrowingTaskGroup(of: (Int, Duration).self) { group in
                // 30 stock lookups: 4 reach inventory and hang, 16 queue, 10 find the bulkhead full.
                for _ in 0..<30 {
                    group.addTask {
                        let started = ContinuousClock.now
                        let response = try await http.get("/inventory/sku-1")
                        return (response.status, ContinuousClock.now - started)
                    }
                }
                try await eventually("inventory to be saturated") { inventory.arrived >= 4 }

                // With inventory saturated and hung, orders is still served at once: its
                // calls go through another client and another bulkhead.
                let lookup = try await http.get("/orders?id=ord_unknown")
                #expect(lookup.status == 404)
                #expect(lookup.errorCode == "NOT_FOUND")
                #expect(inventory.ended == 0, "the order lookup waited for the hung inventory calls")

                let outcomes = try await group.reduce(into: [(Int, Duration)]()) { $0.append($1) }
                var statuses: [Int: Int] = [:]
                for outcome in outcomes {
                    statuses[outcome.0, default: 0] += 1
                    if outcome.0 == 504 {
                        #expect(outcome.1 >= timeout)
                    }
                }
                #expect(statuses[504, default: 0] + statuses[503, default: 0] == 30)
                #expect(statuses[503, default: 0] >= 10)
                #expect(statuses[504, default: 0] >= 4)
            }
            // Only the bulkhead's worth of calls ever reached inventory at once.
            #expect(inventory.arrived <= 20)
        }
    }
}
