import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardInventory
import SwitchyardOrders
import SwitchyardRuntime
import SwitchyardTestSupport
import Synchronization
import Testing

typealias OrdersClient = Orders_Orders.Client<HTTP2ClientTransport.Posix>
typealias InventoryClient = Inventory_Inventory.Client<HTTP2ClientTransport.Posix>

/// Runs inventory (or a stand-in) and orders, and hands `body` clients for both.
func withOrdersSystem(
    inventory standIn: InventoryStandIn = .real,
    body: (OrdersClient, InventoryClient?) async throws -> Void
) async throws {
    try await withLocalSystem(inventory: standIn, withGateway: false) { system in
        try await withLoopbackGRPCClient(port: system.ordersPort ?? 0) { ordersGRPC in
            let orders = OrdersClient(wrapping: ordersGRPC)
            if case .real = standIn, let inventoryPort = system.inventoryPort {
                try await withLoopbackGRPCClient(port: inventoryPort) { inventoryGRPC in
                    try await body(orders, InventoryClient(wrapping: inventoryGRPC))
                }
            } else {
                try await body(orders, nil)
            }
        }
    }
}

func placeRequest(key: String, customer: String = "c-1", lines: [(String, Int32, Int64)]) -> Orders_PlaceOrderRequest {
    .with { request in
        request.idempotencyKey = key
        request.customerID = customer
        request.lines = lines.map { line in .with { $0.sku = line.0; $0.quantity = line.1; $0.unitPriceCents = line.2 } }
    }
}

func rpcError(_ call: () async throws -> Void) async -> RPCError? {
    do {
        try await call()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        Issue.record("expected an RPCError, got \(error)")
        return nil
    }
}

@Suite("orders.Orders against a real inventory")
struct OrdersGRPCTests {
    @Test("PlaceOrder reserves stock and stores the order; GetOrder and ListOrders read it back")
    func placeAndRead() async throws {
        try await withOrdersSystem { orders, inventory in
            let inventory = try #require(inventory)
            let placed = try await orders.placeOrder(placeRequest(key: "k-1", lines: [("sku-2", 3, 1250), ("sku-1", 1, 99)]))
            #expect(placed.created)
            #expect(placed.order.status == "placed")
            #expect(placed.order.totalCents == 3 * 1250 + 99)
            #expect(try await inventory.getStock(.with { $0.sku = "sku-2" }).quantity == 97)
            // Events may already have moved it on: fulfillment ships, inventory confirms.
            let reservation = try await inventory.getReservation(.with { $0.orderID = placed.order.id }).reservation
            #expect([.reserved, .confirmed].contains(reservation.status))
            var read = try await orders.getOrder(.with { $0.id = placed.order.id })
            #expect(["placed", "shipped"].contains(read.status))
            read.status = placed.order.status
            read.shippedAtUnixMs = 0
            #expect(read == placed.order)
            let listed = try await orders.listOrders(.with { $0.customerID = "c-1" })
            #expect(listed.orders.map(\.id) == [placed.order.id])
            let missing = await rpcError { _ = try await orders.getOrder(.with { $0.id = "ord_nope" }) }
            #expect(missing?.code == .notFound)
        }
    }

    @Test("Short stock is FAILED_PRECONDITION naming the SKUs, unknown SKUs INVALID_ARGUMENT; nothing is stored")
    func refusals() async throws {
        try await withOrdersSystem { orders, inventory in
            let short = await rpcError { _ = try await orders.placeOrder(placeRequest(key: "k-1", lines: [("sku-3", 8, 100), ("sku-4", 1, 100)])) }
            #expect(short?.code == .failedPrecondition)
            #expect(short?.message == "insufficient stock for sku-3 (requested 8, available 7), sku-4 (requested 1, available 0)")
            let unknown = await rpcError { _ = try await orders.placeOrder(placeRequest(key: "k-2", lines: [("nope", 1, 100)])) }
            #expect(unknown?.code == .invalidArgument)
            #expect(unknown?.message == "unknown SKU: nope")
            let listed = try await orders.listOrders(.with { $0.customerID = "c-1" })
            #expect(listed.orders.isEmpty)
            let stock = try await inventory?.getStock(.with { $0.sku = "sku-3" })
            #expect(stock?.quantity == 7)
        }
    }

    @Test("20 racing duplicates: exactly one order and one reservation; a changed body is ALREADY_EXISTS with its reason")
    func idempotency() async throws {
        try await withOrdersSystem { orders, inventory in
            let request = placeRequest(key: "dup", lines: [("sku-2", 2, 500)])
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await orders.placeOrder(request).order.id } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await inventory?.getStock(.with { $0.sku = "sku-2" }).quantity == 98)
            #expect(try await orders.listOrders(.with { $0.customerID = "c-1" }).orders.count == 1)

            let changed = await rpcError { _ = try await orders.placeOrder(placeRequest(key: "dup", lines: [("sku-2", 3, 500)])) }
            #expect(changed?.code == .alreadyExists)
            #expect(changed.flatMap(ErrorReason.init(of:)) == .idempotencyKeyReused)
        }
    }

    @Test("Inventory unreachable: UNAVAILABLE, and nothing is stored")
    func inventoryUnreachable() async throws {
        try await withOrdersSystem(inventory: .unreachable) { orders, _ in
            let error = await rpcError { _ = try await orders.placeOrder(placeRequest(key: "k", lines: [("sku-1", 1, 1)])) }
            #expect(error?.code == .unavailable)
            let listed = try await orders.listOrders(.with { $0.customerID = "c-1" })
            #expect(listed.orders.isEmpty)
        }
    }

    @Test("A hanging inventory gets only what is left of the caller's deadline, and the call fails at it")
    func deadlineShrinksAtEachHop() async throws {
        let recorder = TimeoutRecordingInventory()
        try await withOrdersSystem(inventory: .custom([recorder])) { orders, _ in
            var options = CallOptions.defaults
            options.timeout = .seconds(8)
            let started = ContinuousClock.now
            let error = await rpcError { _ = try await orders.placeOrder(placeRequest(key: "k", lines: [("sku-1", 1, 1)]), options: options) }
            let elapsed = ContinuousClock.now - started
            #expect(error?.code == .deadlineExceeded)
            #expect(elapsed < .seconds(20))
            let forwarded = try #require(recorder.timeouts.first)
            #expect(forwarded < .seconds(8))
            #expect(forwarded > .zero)
            #expect(try await orders.listOrders(.with { $0.customerID = "c-1" }).orders.isEmpty)
        }
    }
}

/// An inventory whose ReserveStock records the `grpc-timeout` it receives and then hangs until
/// gRPC cancels the call.
final class TimeoutRecordingInventory: RegistrableRPCService, Sendable {
    private let recorded = Mutex<[Duration]>([])
    var timeouts: [Duration] { recorded.withLock { $0 } }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Inventory_Inventory.Method.ReserveStock.descriptor,
            deserializer: RawDeserializer(),
            serializer: RawSerializer()
        ) { request, context in
            let header = GRPCTimeoutHeader.metadataKeys.lazy.compactMap { request.metadata[stringValues: $0].first(where: { _ in true }) }.first
            if let header, let timeout = GRPCTimeoutHeader.parse(header) {
                self.recorded.withLock { $0.append(timeout) }
            }
            try await context.cancellation.cancelled
            return StreamingServerResponse(error: RPCError(code: .cancelled, message: "cancelled while hanging"))
        }
    }
}
