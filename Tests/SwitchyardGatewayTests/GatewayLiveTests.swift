import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardTestSupport
import Testing

private let twoOfSku1 = #"{"customerId": "c-1", "lines": [{"sku": "sku-1", "quantity": 2, "unitPriceCents": 1999}]}"#

private func stock(_ http: HTTPTestClient, _ sku: String) async throws -> Int? {
    try await http.get("/inventory/\(sku)").json?["quantity"] as? Int
}

@Suite("The gateway, end to end over real sockets")
struct GatewayLiveTests {
    @Test("POST, then GET through ?id= and /orders/{id}; stock goes down")
    func placeAndLookUp() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            #expect(try await stock(http, "sku-1") == 42)
            let placed = try await http.placeOrder(key: "key-1", json: twoOfSku1)
            #expect(placed.status == 201)
            let id = try #require(placed.json?["id"] as? String)
            #expect(placed.headers["Location"] == ["/orders/\(id)"])
            #expect(placed.json?["totalCents"] as? Int == 3998)
            #expect(placed.json?["status"] as? String == "placed")

            let summary = try await http.get("/orders?id=\(id)")
            #expect(summary.status == 200)
            #expect(summary.headers["Content-Type"] == ["application/json"])
            #expect(summary.json?.count == 2)
            #expect(summary.json?["id"] as? String == id)
            // Fulfillment may already have shipped it: the loop runs as soon as it is placed.
            #expect(["placed", "shipped"].contains(summary.json?["status"] as? String ?? ""))

            let detail = try await http.get("/orders/\(id)")
            #expect(detail.status == 200)
            #expect(detail.json?["customerId"] as? String == "c-1")
            #expect((detail.json?["lines"] as? [[String: Any]])?.first?["sku"] as? String == "sku-1")
            #expect(detail.json?["createdAt"] is String)

            #expect(try await stock(http, "sku-1") == 40)
            let listing = try await http.get("/inventory?pageSize=2")
            #expect((listing.json?["items"] as? [[String: Any]])?.count == 2)
            #expect(listing.json?["nextPageToken"] is String)
        }
    }

    @Test("Insufficient stock is 409 naming the SKUs, and nothing is reserved")
    func insufficientStock() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            let response = try await http.placeOrder(key: "k", json: #"{"customerId": "c", "lines": [{"sku": "sku-3", "quantity": 8, "unitPriceCents": 1}, {"sku": "sku-4", "quantity": 1, "unitPriceCents": 1}]}"#)
            #expect(response.status == 409)
            #expect(response.errorCode == "FAILED_PRECONDITION")
            #expect(response.errorMessage?.contains("sku-3") == true)
            #expect(response.errorMessage?.contains("sku-4") == true)
            #expect(try await stock(http, "sku-3") == 7)
        }
    }

    @Test("Idempotency: the same key and body give the same order; a different body is 422")
    func idempotentRepeat() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            let first = try await http.placeOrder(key: "same", json: twoOfSku1)
            let second = try await http.placeOrder(key: "same", json: twoOfSku1)
            #expect(first.status == 201)
            #expect(second.status == 201)
            #expect(second.headers["Idempotent-Replayed"] == ["true"])
            #expect(first.json?["id"] as? String == second.json?["id"] as? String)
            #expect(try await stock(http, "sku-1") == 40)
            let changed = try await http.placeOrder(key: "same", json: #"{"customerId": "c-1", "lines": [{"sku": "sku-1", "quantity": 3, "unitPriceCents": 1999}]}"#)
            #expect(changed.status == 422)
            #expect(changed.errorCode == "IDEMPOTENCY_KEY_REUSED")
            #expect(try await stock(http, "sku-1") == 40)
        }
    }

    @Test("20 racing duplicates: exactly one order and one reservation")
    func racingDuplicates() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            let responses = try await withThrowingTaskGroup(of: HTTPTestResponse.self) { group in
                for _ in 0..<20 { group.addTask { try await http.placeOrder(key: "race", json: twoOfSku1) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.allSatisfy { $0.status == 201 })
            #expect(Set(responses.compactMap { $0.json?["id"] as? String }).count == 1)
            #expect(responses.filter { $0.headers["Idempotent-Replayed"].isEmpty }.count == 1)
            #expect(try await stock(http, "sku-1") == 40)
        }
    }

    @Test("Readiness follows the downstreams; liveness does not")
    func health() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            #expect(try await http.get("/health/live").status == 200)
            // Readiness needs every downstream to answer its health check in time; on a busy
            // test machine the first checks may not, so wait for it.
            let ready = try await eventually("the gateway to be ready") {
                let response = try await http.get("/health/ready")
                return response.status == 200 ? response : nil
            }
            #expect(ready.json?["status"] as? String == "ready")
        }
        try await withLocalSystem(inventory: .unreachable) { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            #expect(try await http.get("/health/live").status == 200)
            let ready = try await http.get("/health/ready")
            #expect(ready.status == 503)
            #expect(ready.errorCode == "NOT_READY")
            #expect(ready.errorMessage?.contains("inventory") == true)
        }
    }
}
