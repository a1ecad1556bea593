import Foundation
import GRDB
import GRPCCore
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardEventBus
import SwitchyardFulfillment
import SwitchyardStorage
import SwitchyardTestSupport
import Testing

/// Shipments in the local system's fulfillment database, per order id.
private func shipments(in system: LocalSystem, forOrder orderID: String) async throws -> Int {
    let pool = try SQLiteDatabase.open(
        configuration: .init(path: system.dataDirectory.appendingPathComponent("fulfillment.sqlite").path),
        migrations: SQLiteShipmentRepository.migrations,
        logger: .silent
    )
    return try await SQLiteShipmentRepository(database: pool).shipments(forOrder: orderID).count
}

@Suite("The event loop: placed → shipped")
struct EventLoopTests {
    @Test("A POST through the gateway ends shipped, with its reservation confirmed and one shipment")
    func placedToShipped() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            let placed = try await http.placeOrder(key: "loop-1", json: #"{"customerId": "c-7", "lines": [{"sku": "sku-2", "quantity": 2, "unitPriceCents": 300}]}"#)
            #expect(placed.status == 201)
            let id = try #require(placed.json?["id"] as? String)
            try await eventually("the order to ship") {
                try await http.get("/orders?id=\(id)").json?["status"] as? String == "shipped"
            }
            try await withLoopbackGRPCClient(port: system.inventoryPort ?? 0) { grpc in
                let inventory = Inventory_Inventory.Client(wrapping: grpc)
                try await eventually("the reservation to be confirmed") {
                    try await inventory.getReservation(.with { $0.orderID = id }).reservation.status == .confirmed
                }
            }
            #expect(try await shipments(in: system, forOrder: id) == 1)
            // The stock stays taken: confirmed reservations never expire.
            #expect(try await http.get("/inventory/sku-2").json?["quantity"] as? Int == 98)
        }
    }

    @Test("Poison messages: an undecodable order.placed and a shipment no handler can apply go to the dead letters, and the groups keep flowing")
    func poisonMessages() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            try await system.bus.publish([
                EventEnvelope(id: "poison-1", type: OrderPlaced.type, source: "/test", subject: "ord_poison", payload: Array("this is not JSON".utf8)),
                EventEnvelope(
                    id: "orphan-1", type: ShipmentDispatched.type, source: "/test", subject: "ord_nowhere",
                    payload: try ShipmentDispatched(shipmentId: "shp_x", orderId: "ord_nowhere", occurredAt: EventTime.string(Date())).encodedPayload()
                ),
            ])
            // After the poison, real orders still flow through every group.
            let placed = try await http.placeOrder(key: "after-poison", json: #"{"customerId": "c-8", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 100}]}"#)
            let id = try #require(placed.json?["id"] as? String)
            try await eventually("the later order to ship") {
                try await http.get("/orders?id=\(id)").json?["status"] as? String == "shipped"
            }
            let letters = try await eventually("three dead letters", timeout: .seconds(60)) {
                let letters = try await system.bus.deadLetters(limit: 10)
                return letters.count >= 3 ? letters : nil
            }
            let byGroup = Dictionary(grouping: letters, by: \.group)
            // The undecodable body: fulfillment and inventory each give up at once, saying why.
            let fulfillment = try #require(byGroup["fulfillment"]?.first)
            #expect(fulfillment.original.id == "poison-1")
            #expect(fulfillment.attempts == 1)
            #expect(fulfillment.reason.contains("undecodable order.placed"))
            let inventory = try #require(byGroup["inventory"]?.first)
            #expect(inventory.original.id == "poison-1")
            // The shipment for an order that does not exist: retried, then given up.
            let orders = try #require(byGroup["orders"]?.first)
            #expect(orders.original.id == "orphan-1")
            #expect(orders.attempts == 5)
            #expect(orders.reason.contains("ord_nowhere"))
        }
    }
}
