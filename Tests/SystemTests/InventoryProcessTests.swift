import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardTestSupport
import Testing

@Suite("switchyard serve inventory, as a real process")
struct InventoryProcessTests {
    @Test("--port 0 binds a free port and prints it; the article's Python client calls GetStock")
    func pythonClientCallsSwiftServer() async throws {
        let data = try PackagePaths.makeTemporaryDirectory()
        let (server, port) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { server.stop() }
        let stubs = try await SystemHarness.generateArticleStubs()
        let output = try await SystemHarness.runPython("article_client.py", ["127.0.0.1:\(port)", "sku-1", "no-such-sku", ""], stubs: stubs)
        #expect(output.split(separator: "\n") == [
            "OK sku=sku-1 quantity=42",
            "ERR NOT_FOUND unknown SKU: no-such-sku",
            "ERR INVALID_ARGUMENT SKU must not be empty",
        ])
    }

    @Test("A generic Python client discovers the services over reflection (v1alpha) and checks health")
    func genericPythonClient() async throws {
        let data = try PackagePaths.makeTemporaryDirectory()
        let (server, port) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { server.stop() }
        let output = try await SystemHarness.runPython("generic_client.py", ["127.0.0.1:\(port)"])
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains("services: grpc.health.v1.Health,grpc.reflection.v1.ServerReflection,grpc.reflection.v1alpha.ServerReflection,inventory.Inventory"))
        #expect(lines.contains { $0.hasPrefix("inventory.Inventory methods: GetStock,ListStock,ReserveStock") })
        #expect(lines.contains("health (server): SERVING"))
        #expect(lines.contains("health inventory.Inventory: SERVING"))
    }

    @Test("Our Swift client calls the article's Python server")
    func swiftClientCallsPythonServer() async throws {
        let stubs = try await SystemHarness.generateArticleStubs()
        let server = try ManagedProcess(
            name: "article_server.py",
            executable: try SystemHarness.python(),
            arguments: [SystemHarness.pythonDirectory.appendingPathComponent("article_server.py").path],
            environment: ["PYTHONPATH": stubs.path]
        )
        defer { server.stop() }
        let port = try await server.waitForListeningPort("article server")
        let reply = try await withLoopbackGRPCClient(port: port) { grpc in
            try await Inventory_Inventory.Client(wrapping: grpc).getStock(.with { $0.sku = "sku-9" })
        }
        #expect(reply.sku == "sku-9")
        #expect(reply.quantity == 42)
        server.send(signal: SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test("SIGTERM and SIGINT stop the server cleanly, exit status 0", arguments: [SIGTERM, SIGINT])
    func signalsStopCleanly(signal: Int32) async throws {
        let data = try PackagePaths.makeTemporaryDirectory()
        let (server, port) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { server.stop() }
        _ = try await withLoopbackGRPCClient(port: port) { grpc in
            try await Inventory_Inventory.Client(wrapping: grpc).getStock(.with { $0.sku = "sku-1" })
        }
        server.send(signal: signal)
        #expect(try await server.waitForExit() == 0)
    }

    @Test("kill -9 loses nothing that was acknowledged: reservations and stock survive a restart")
    func durableAcrossKill() async throws {
        let data = try PackagePaths.makeTemporaryDirectory()
        let (first, firstPort) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { first.stop() }
        try await withLoopbackGRPCClient(port: firstPort) { grpc in
            let client = Inventory_Inventory.Client(wrapping: grpc)
            for index in 0..<20 {
                _ = try await client.reserveStock(.with { request in
                    request.orderID = "order-\(index)"
                    request.lines = [.with { $0.sku = "sku-2"; $0.quantity = 2 }]
                })
            }
        }
        first.send(signal: SIGKILL)
        _ = try await first.waitForExit()

        let (second, secondPort) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { second.stop() }
        try await withLoopbackGRPCClient(port: secondPort) { grpc in
            let client = Inventory_Inventory.Client(wrapping: grpc)
            #expect(try await client.getStock(.with { $0.sku = "sku-2" }).quantity == 60)
            let reservation = try await client.getReservation(.with { $0.orderID = "order-19" }).reservation
            #expect(reservation.status == .reserved)
            #expect(reservation.lines.map(\.quantity) == [2])
        }
    }

    @Test("A port that is taken is a clear startup error, not a crash")
    func portInUse() async throws {
        let data = try PackagePaths.makeTemporaryDirectory()
        let (first, port) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { first.stop() }
        let second = try ManagedProcess(
            name: "second inventory",
            executable: PackagePaths.switchyardBinary,
            arguments: ["serve", "inventory", "--port", "\(port)", "--data-directory", try PackagePaths.makeTemporaryDirectory().path]
        )
        defer { second.stop() }
        let status = try await second.waitForExit()
        #expect(status != 0)
        #expect(status != SIGSEGV && status != SIGILL && status != SIGTRAP)
        #expect(second.standardError.lowercased().contains("address already in use"))
    }
}
