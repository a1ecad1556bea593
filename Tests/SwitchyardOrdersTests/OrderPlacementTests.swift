import Foundation
import SwitchyardEventBus
import SwitchyardOrders
import SwitchyardTestSupport
import Synchronization
import Testing

/// A `StockReservations` whose answers the test scripts, recording every call.
final class ScriptedReservations: StockReservations {
    enum Call: Equatable { case reserve(String), release(String) }
    let calls = Mutex<[Call]>([])
    let reserveError = Mutex<StockReservationError?>(nil)

    func reserve(orderID: String, lines: [OrderLine]) async throws {
        calls.withLock { $0.append(.reserve(orderID)) }
        if let error = reserveError.withLock({ $0 }) { throw error }
    }

    func release(orderID: String) async throws {
        calls.withLock { $0.append(.release(orderID)) }
    }

    var reserved: [String] { calls.withLock { $0.compactMap { if case .reserve(let id) = $0 { id } else { nil } } } }
    var released: [String] { calls.withLock { $0.compactMap { if case .release(let id) = $0 { id } else { nil } } } }
}

private func command(key: String = "key-1", customer: String = "c-1", quantity: Int = 2) throws -> PlaceOrderCommand {
    try PlaceOrderCommand.validated(
        idempotencyKey: key,
        customerID: customer,
        lines: [OrderLine(sku: "sku-1", quantity: quantity, unitPriceCents: 1999), OrderLine(sku: "sku-2", quantity: 1, unitPriceCents: 500)]
    )
}

/// Runs `body` with a placement over an in-memory repository and scripted reservations, the
/// release queue running as it does in the service.
private func withPlacement(
    _ body: (OrderPlacement<InMemoryOrdersRepository, ScriptedReservations>, InMemoryOrdersRepository, ScriptedReservations) async throws -> Void
) async throws {
    let repository = InMemoryOrdersRepository()
    let reservations = ScriptedReservations()
    let releases = ReleaseQueue(reservations: reservations, logger: .silent)
    let placement = OrderPlacement(repository: repository, reservations: reservations, releases: releases)
    try await withRunningServices([releases]) { _ in
        try await body(placement, repository, reservations)
    }
}

@Suite("Placing an order")
struct OrderPlacementTests {
    @Test("Reserve, then store: the order is placed with its total")
    func places() async throws {
        try await withPlacement { placement, repository, reservations in
            let outcome = try await placement.place(command())
            #expect(outcome.created)
            #expect(outcome.order.status == .placed)
            #expect(outcome.order.totalCents == 2 * 1999 + 500)
            #expect(reservations.reserved == [outcome.order.id])
            #expect(try await repository.order(id: outcome.order.id) == outcome.order)
        }
    }

    @Test("The order.placed event is queued with the order, carrying exactly the article's fields")
    func queuesOrderPlaced() async throws {
        try await withPlacement { placement, repository, _ in
            let outcome = try await placement.place(command())
            let event = try #require(repository.outbox.first)
            #expect(repository.outbox.count == 1)
            #expect(event.type == "order.placed")
            #expect(event.subject == outcome.order.id)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(event.payload)) as? [String: Any])
            #expect(Set(body.keys) == ["orderId", "customerId", "totalCents", "occurredAt"])
            #expect(body["orderId"] as? String == outcome.order.id)
            #expect(body["customerId"] as? String == "c-1")
            #expect(body["totalCents"] as? Int == 2 * 1999 + 500)
            let occurredAt = try #require(body["occurredAt"] as? String)
            #expect((try? Date(occurredAt, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))) != nil)
            // A replay queues nothing more.
            _ = try await placement.place(command())
            #expect(repository.outbox.count == 1)
        }
    }

    @Test("The same key and request return the first order and reserve nothing again")
    func replays() async throws {
        try await withPlacement { placement, _, reservations in
            let first = try await placement.place(command())
            let second = try await placement.place(command())
            #expect(!second.created)
            #expect(second.order == first.order)
            #expect(reservations.reserved.count == 1)
        }
    }

    @Test("20 racing duplicates place one order and make one reservation")
    func racingDuplicates() async throws {
        try await withPlacement { placement, _, reservations in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await placement.place(command()).order.id } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(reservations.reserved.count == 1)
        }
    }

    @Test("The same key with a different request is refused and reserves nothing")
    func keyReused() async throws {
        try await withPlacement { placement, _, reservations in
            _ = try await placement.place(command(quantity: 2))
            await #expect(throws: OrdersError.idempotencyKeyReused("key-1")) {
                try await placement.place(command(quantity: 3))
            }
            #expect(reservations.reserved.count == 1)
        }
    }

    @Test("Inventory failures store nothing; unavailable and deadline failures release what may have been reserved", arguments: [
        (StockReservationError.insufficientStock("short"), OrdersError.insufficientStock("short"), false),
        (.unknownSKUs("unknown SKU: x"), .unknownSKUs("unknown SKU: x"), false),
        (.unavailable("down"), .inventoryUnavailable("down"), true),
        (.deadlineExceeded("slow"), .deadlineExceeded("slow"), true),
    ])
    func inventoryFailures(failure: StockReservationError, expected: OrdersError, releases: Bool) async throws {
        try await withPlacement { placement, repository, reservations in
            reservations.reserveError.withLock { $0 = failure }
            await #expect(throws: expected) { try await placement.place(command()) }
            #expect(try await repository.placement(idempotencyKey: "key-1") == nil)
            if releases {
                let attempted = try #require(reservations.reserved.first)
                try await eventually("the release of \(attempted)") { reservations.released == [attempted] }
            } else {
                #expect(reservations.released.isEmpty)
            }
            // A retry with the same key is a fresh attempt, and succeeds once inventory does.
            reservations.reserveError.withLock { $0 = nil }
            let retried = try await placement.place(command())
            #expect(retried.created)
            #expect(retried.order.id != reservations.reserved.first)
        }
    }

    @Test("Malformed orders are refused before anything is reserved", arguments: [
        ("", "c-1", [OrderLine(sku: "a", quantity: 1, unitPriceCents: 1)], "idempotency key must not be empty"),
        ("k", "", [OrderLine(sku: "a", quantity: 1, unitPriceCents: 1)], "customerId must not be empty"),
        ("k", "c", [], "an order needs at least one line"),
        ("k", "c", [OrderLine(sku: "a", quantity: 0, unitPriceCents: 1)], "quantity of a must be between 1 and 10000, got 0"),
        ("k", "c", [OrderLine(sku: "a", quantity: -1, unitPriceCents: 1)], "quantity of a must be between 1 and 10000, got -1"),
        ("k", "c", [OrderLine(sku: "a", quantity: 1, unitPriceCents: -5)], "unitPriceCents of a must be between 0 and 1000000000, got -5"),
        ("k", "c", [OrderLine(sku: "a", quantity: 1, unitPriceCents: 1), OrderLine(sku: "a", quantity: 2, unitPriceCents: 1)], "sku a appears on more than one line"),
        ("k", "c", (0..<10_000).map { OrderLine(sku: "s\($0)", quantity: 1, unitPriceCents: 1) }, "an order has at most 100 lines, got 10000"),
    ])
    func validation(key: String, customer: String, lines: [OrderLine], message: String) {
        #expect(throws: OrdersError.invalidArgument(message)) {
            try PlaceOrderCommand.validated(idempotencyKey: key, customerID: customer, lines: lines)
        }
    }

    @Test("The fingerprint ignores line order but not content")
    func fingerprint() throws {
        let a = try PlaceOrderCommand.validated(idempotencyKey: "k", customerID: "c", lines: [
            OrderLine(sku: "a", quantity: 1, unitPriceCents: 1), OrderLine(sku: "b", quantity: 2, unitPriceCents: 3),
        ])
        let b = try PlaceOrderCommand.validated(idempotencyKey: "k", customerID: "c", lines: [
            OrderLine(sku: "b", quantity: 2, unitPriceCents: 3), OrderLine(sku: "a", quantity: 1, unitPriceCents: 1),
        ])
        let c = try PlaceOrderCommand.validated(idempotencyKey: "k", customerID: "c", lines: [
            OrderLine(sku: "a", quantity: 1, unitPriceCents: 1), OrderLine(sku: "b", quantity: 2, unitPriceCents: 4),
        ])
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
    }
}
