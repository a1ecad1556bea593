import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardTestSupport
import Testing

/// `switchyard dev` as a real process on free ports, with its gateway's URL.
private func startDev() async throws -> (ManagedProcess, HTTPTestClient) {
    let data = try PackagePaths.makeTemporaryDirectory()
    let dev = try ManagedProcess(
        name: "switchyard dev",
        executable: PackagePaths.switchyardBinary,
        arguments: ["dev", "--port", "0", "--inventory-port", "0", "--orders-port", "0", "--data-directory", data.path, "--log-level", "warning"]
    )
    let port = try await dev.waitForListeningPort("gateway HTTP")
    return (dev, HTTPTestClient(baseURL: "http://127.0.0.1:\(port)"))
}

@Suite("The gateway as clients in other languages see it")
struct GatewayProcessTests {
    @Test("The article's fetchOrder (JavaScript, node) parses a 2xx and throws on a non-2xx")
    func articleFetchOrder() async throws {
        let (dev, http) = try await startDev()
        defer { dev.stop() }
        let placed = try await http.placeOrder(key: "node-1", json: #"{"customerId": "c-1", "lines": [{"sku": "sku-2", "quantity": 1, "unitPriceCents": 250}]}"#)
        let id = try #require(placed.json?["id"] as? String)
        let script = PackagePaths.root.appendingPathComponent("Tests/SystemTests/JavaScript/fetch_order.mjs").path
        let node = try #require(["/usr/bin/node", "/usr/local/bin/node"].first { FileManager.default.isExecutableFile(atPath: $0) }, "node is not installed")

        let found = try ManagedProcess(name: "fetch_order.mjs", executable: URL(fileURLWithPath: node), arguments: [script, http.baseURL, id])
        #expect(try await found.waitForExit() == 0)
        let order = try #require(try JSONSerialization.jsonObject(with: Data(found.standardOutput.utf8)) as? [String: String])
        #expect(Set(order.keys) == ["id", "status"])
        #expect(order["id"] == id)
        #expect(["placed", "shipped"].contains(order["status"] ?? ""))

        let missing = try ManagedProcess(name: "fetch_order.mjs", executable: URL(fileURLWithPath: node), arguments: [script, http.baseURL, "ord_missing"])
        #expect(try await missing.waitForExit() == 3)
        #expect(missing.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "THROWN HTTP error: 404")
    }

    @Test("GET /openapi.json is valid OpenAPI 3.1, and real responses validate against it")
    func openAPIMatchesResponses() async throws {
        let (dev, http) = try await startDev()
        defer { dev.stop() }
        var samples: [[String: Any]] = []
        func record(_ method: String, _ template: String, _ response: HTTPTestResponse) throws {
            samples.append(["method": method, "path": template, "status": response.status, "body": try JSONSerialization.jsonObject(with: Data(response.body.utf8))])
        }
        let placed = try await http.placeOrder(key: "oa-1", json: #"{"customerId": "c-1", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 100}]}"#)
        let id = try #require(placed.json?["id"] as? String)
        try record("POST", "/orders", placed)
        try record("POST", "/orders", try await http.placeOrder(key: "oa-1", json: #"{"customerId": "c-2", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 100}]}"#))
        try record("POST", "/orders", try await http.placeOrder(key: "oa-2", json: #"{"customerId": "c-1", "lines": [{"sku": "sku-4", "quantity": 1, "unitPriceCents": 100}]}"#))
        try record("POST", "/orders", try await http.placeOrder(key: "oa-3", json: "{"))
        try record("POST", "/orders", try await http.send(.POST, "/orders", headers: [("Idempotency-Key", "x"), ("Content-Type", "text/plain")], body: Array("hi".utf8)))
        try record("GET", "/orders", try await http.get("/orders?id=\(id)"))
        try record("GET", "/orders", try await http.get("/orders?id=ord_missing"))
        try record("GET", "/orders", try await http.get("/orders"))
        try record("GET", "/orders/{id}", try await http.get("/orders/\(id)"))
        try record("GET", "/orders/{id}", try await http.get("/orders/ord_missing"))
        try record("GET", "/inventory", try await http.get("/inventory?pageSize=2"))
        try record("GET", "/inventory", try await http.get("/inventory"))
        try record("GET", "/inventory", try await http.get("/inventory?pageSize=zero"))
        try record("GET", "/inventory/{sku}", try await http.get("/inventory/sku-1"))
        try record("GET", "/inventory/{sku}", try await http.get("/inventory/nope"))
        try record("GET", "/health/live", try await http.get("/health/live"))
        let ready = try await eventually("the gateway to be ready") {
            let response = try await http.get("/health/ready")
            return response.status == 200 ? response : nil
        }
        try record("GET", "/health/ready", ready)

        let directory = try PackagePaths.makeTemporaryDirectory()
        let document = directory.appendingPathComponent("openapi.json")
        let served = try await http.get("/openapi.json")
        #expect(served.status == 200)
        try Data(served.body.utf8).write(to: document)
        let samplesFile = directory.appendingPathComponent("samples.json")
        try JSONSerialization.data(withJSONObject: samples).write(to: samplesFile)
        let output = try await SystemHarness.runPython("validate_openapi.py", [document.path, samplesFile.path])
        let lines = output.split(separator: "\n")
        #expect(lines.count == samples.count + 1)
        #expect(lines.allSatisfy { $0.hasPrefix("OK ") })
    }

    @Test("The client subcommands place, read and list through the gateway")
    func clientSubcommands() async throws {
        let (dev, http) = try await startDev()
        defer { dev.stop() }
        func run(_ arguments: [String]) async throws -> ManagedProcess {
            let process = try ManagedProcess(name: "switchyard \(arguments.first ?? "")", executable: PackagePaths.switchyardBinary, arguments: arguments + ["--gateway", http.baseURL])
            _ = try await process.waitForExit()
            return process
        }
        let place = try await run(["order", "place", "--customer", "c-9", "--line", "sku-2:3:150", "--key", "cli-1"])
        #expect(place.exitStatus == 0)
        let placed = try #require(try JSONSerialization.jsonObject(with: Data(place.standardOutput.utf8)) as? [String: Any])
        let id = try #require(placed["id"] as? String)
        #expect(placed["totalCents"] as? Int == 450)

        let get = try await run(["order", "get", id])
        #expect(get.exitStatus == 0)
        #expect(get.standardOutput.contains(id))

        let stock = try await run(["stock", "sku-2"])
        #expect(stock.standardOutput.contains(#""quantity":97"#))
        let all = try await run(["stock"])
        #expect(all.standardOutput.contains("sku-5"))

        let missing = try await run(["order", "get", "ord_missing"])
        #expect(missing.exitStatus == 1)
        #expect(missing.standardError.contains("HTTP 404"))
        let badLine = try await run(["order", "place", "--customer", "c", "--line", "sku-1:two:1"])
        #expect(badLine.exitStatus != 0)
    }
}
