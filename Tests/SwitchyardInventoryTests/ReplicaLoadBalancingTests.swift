import Foundation
import GRPCCore
import ServiceLifecycle
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardInventory
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

/// A server of `inventory.Inventory` whose stock tells which replica answered.
private func replica(quantity: Int) throws -> GRPCServerService {
    try GRPCServerService(
        name: "inventory",
        configuration: .init(port: 0),
        services: [InventoryGRPCService(repository: InMemoryInventoryRepository(stock: [.init(sku: "which", quantity: quantity)]))],
        logger: .silent
    )
}

@Suite("Clients over several replicas")
struct ReplicaLoadBalancingTests {
    @Test("Calls go round robin over every replica, and a replica that goes away is dropped from the rotation")
    func roundRobinDropsUnhealthy() async throws {
        let first = try replica(quantity: 1)
        let second = try replica(quantity: 2)
        try await withRunningServices([second]) { _ in
            let secondPort = try await second.listeningAddress.port
            try await withRunningServices([first]) { firstGroup in
                let firstPort = try await first.listeningAddress.port
                let replicas = try #require(try GRPCReplicaTarget.parse("127.0.0.1:\(firstPort),127.0.0.1:\(secondPort)", key: "test.addresses"))
                let clientService = try GRPCClientService(name: "inventory", target: .address(GRPCClientConfiguration(port: 0, replicas: replicas)))
                try await withRunningServices([clientService]) { _ in
                    let client = Inventory_Inventory.Client(wrapping: clientService.client)
                    let request = Inventory_StockRequest.with { $0.sku = "which" }
                    // Connections come up one by one; once both are ready, calls alternate.
                    try await eventually("both replicas to answer", timeout: .seconds(60)) {
                        var seen: Set<Int32> = []
                        for _ in 0..<4 { seen.insert(try await client.getStock(request).quantity) }
                        return seen == [1, 2]
                    }
                    var answers: [Int32: Int] = [:]
                    for _ in 0..<40 { answers[try await client.getStock(request).quantity, default: 0] += 1 }
                    #expect(answers[1] == 20 && answers[2] == 20, "round robin should split 40 calls evenly: \(answers)")

                    // The first replica goes away; after the balancer notices, every call
                    // lands on the second and none fails.
                    await firstGroup.triggerGracefulShutdown()
                    try await eventually("the gone replica to leave the rotation", timeout: .seconds(60)) {
                        for _ in 0..<20 {
                            guard (try? await client.getStock(request).quantity) == 2 else { return false }
                        }
                        return true
                    }
                }
            }
        }
    }

    @Test("Replica lists and DNS names parse; anything else names the key", arguments: [
        ("10.0.0.1:50051,10.0.0.2:50051", GRPCReplicaTarget.addresses([.init(host: "10.0.0.1", port: 50051), .init(host: "10.0.0.2", port: 50051)])),
        (" a:1 , b:2 ", .addresses([.init(host: "a", port: 1), .init(host: "b", port: 2)])),
        ("dns:orders.internal:50052", .dns(host: "orders.internal", port: 50052)),
        ("dns:///orders.internal:50052", .dns(host: "orders.internal", port: 50052)),
    ])
    func parses(text: String, expected: GRPCReplicaTarget) throws {
        #expect(try GRPCReplicaTarget.parse(text, key: "k") == expected)
    }

    @Test("Malformed replica lists are configuration errors", arguments: ["a:1,b", "a:0", "dns:nohost", ":80"])
    func rejects(text: String) {
        #expect(throws: ConfigurationValueError.self) { try GRPCReplicaTarget.parse(text, key: "gateway.orders.addresses") }
    }
}
