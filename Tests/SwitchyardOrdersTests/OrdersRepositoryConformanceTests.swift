import Foundation
import SwitchyardEventBus
import SwitchyardOrders
import SwitchyardRuntime
import SwitchyardStorage
import SwitchyardTestSupport
import Testing

/// Every engine the rules are checked against; a rule that holds for one and not another is a
/// bug in that one.
enum OrdersRepositoryKind: String, CaseIterable, CustomTestStringConvertible {
    case inMemory
    case sqlite
    /// A fresh schema on the suite's throwaway PostgreSQL cluster.
    case postgres

    var testDescription: String { rawValue }

    func make() async throws -> any OrdersRepository {
        switch self {
        case .inMemory:
            return InMemoryOrdersRepository()
        case .sqlite:
            let directory = try PackagePaths.makeTemporaryDirectory()
            let pool = try SQLiteDatabase.open(
                configuration: .init(path: directory.appendingPathComponent("orders.sqlite").path),
                migrations: SQLiteOrdersRepository.migrations,
                logger: .silent
            )
            return SQLiteOrdersRepository(database: pool)
        case .postgres:
            return PostgresOrdersRepository(database: try await PostgresTestEnvironment.required().makeDatabase(migrations: PostgresOrdersRepository.migrations))
        }
    }
}

func sampleOrder(id: String, customer: String = "c-1", at milliseconds: Int64 = 1_800_000_000_000) -> Order {
    let lines = [OrderLine(sku: "sku-1", quantity: 2, unitPriceCents: 1999), OrderLine(sku: "sku-2", quantity: 1, unitPriceCents: 500)]
    return Order(id: id, customerID: customer, status: .placed, lines: lines, totalCents: 4498, createdAt: Date(unixMilliseconds: milliseconds))
}

@Suite("Orders repository conformance", .postgresServer)
struct OrdersRepositoryConformanceTests {
    @Test("An inserted order reads back exactly, by id and by idempotency key", arguments: OrdersRepositoryKind.allCases)
    func roundTrip(kind: OrdersRepositoryKind) async throws {
        let repository = try await kind.make()
        let order = sampleOrder(id: "ord_1")
        #expect(try await repository.insert(order, idempotencyKey: "key-1", fingerprint: "f1", events: []) == .inserted)
        #expect(try await repository.order(id: "ord_1") == order)
        #expect(try await repository.placement(idempotencyKey: "key-1") == StoredPlacement(order: order, fingerprint: "f1"))
        #expect(try await repository.order(id: "ord_2") == nil)
        #expect(try await repository.placement(idempotencyKey: "key-2") == nil)
    }

    @Test("A used idempotency key is reported, never overwritten", arguments: OrdersRepositoryKind.allCases)
    func keyIsUnique(kind: OrdersRepositoryKind) async throws {
        let repository = try await kind.make()
        let first = sampleOrder(id: "ord_1")
        _ = try await repository.insert(first, idempotencyKey: "key-1", fingerprint: "f1", events: [])
        let outcome = try await repository.insert(sampleOrder(id: "ord_2"), idempotencyKey: "key-1", fingerprint: "f2", events: [])
        #expect(outcome == .keyAlreadyUsed(StoredPlacement(order: first, fingerprint: "f1")))
        #expect(try await repository.order(id: "ord_2") == nil)
    }

    @Test("A shipment marks the order shipped once, however often its event is delivered", arguments: OrdersRepositoryKind.allCases)
    func markShipped(kind: OrdersRepositoryKind) async throws {
        let repository = try await kind.make()
        _ = try await repository.insert(sampleOrder(id: "ord_1"), idempotencyKey: "k", fingerprint: "f", events: [])
        #expect(try await repository.markShipped(orderID: "ord_1", eventID: "e1", group: "orders", at: Date(unixMilliseconds: 1_800_000_000_000)) == .marked)
        #expect(try await repository.order(id: "ord_1")?.status == .shipped)
        #expect(try await repository.order(id: "ord_1")?.shippedAt == Date(unixMilliseconds: 1_800_000_000_000))
        // The redelivery does not move the shipping time either.
        #expect(try await repository.markShipped(orderID: "ord_1", eventID: "e1", group: "orders", at: Date(unixMilliseconds: 1_800_000_000_999)) == .alreadyApplied)
        #expect(try await repository.order(id: "ord_1")?.shippedAt == Date(unixMilliseconds: 1_800_000_000_000))
        #expect(try await repository.markShipped(orderID: "ord_nope", eventID: "e2", group: "orders", at: Date(unixMilliseconds: 1_800_000_000_000)) == .orderNotFound)
    }

    @Test("A customer's orders page newest first", arguments: OrdersRepositoryKind.allCases)
    func listing(kind: OrdersRepositoryKind) async throws {
        let repository = try await kind.make()
        for index in 0..<5 {
            _ = try await repository.insert(sampleOrder(id: "ord_\(index)", at: 1_800_000_000_000 + Int64(index)), idempotencyKey: "k\(index)", fingerprint: "f", events: [])
        }
        _ = try await repository.insert(sampleOrder(id: "ord_other", customer: "c-2"), idempotencyKey: "other", fingerprint: "f", events: [])
        let first = try await repository.orders(customerID: "c-1", after: nil, limit: 2)
        #expect(first.orders.map(\.id) == ["ord_4", "ord_3"])
        let second = try await repository.orders(customerID: "c-1", after: first.next, limit: 2)
        #expect(second.orders.map(\.id) == ["ord_2", "ord_1"])
        let last = try await repository.orders(customerID: "c-1", after: second.next, limit: 2)
        #expect(last.orders.map(\.id) == ["ord_0"])
        #expect(last.next == nil)
        #expect(try await repository.orders(customerID: "nobody", after: nil, limit: 10).orders.isEmpty)
    }

    @Test("Replicas racing to place one idempotency key store one order", arguments: OrdersRepositoryKind.allCases)
    func racingKey(kind: OrdersRepositoryKind) async throws {
        let repository = try await kind.make()
        let outcomes = try await withThrowingTaskGroup(of: OrderInsertOutcome.self) { group in
            for index in 0..<16 {
                group.addTask {
                    try await repository.insert(sampleOrder(id: "ord_\(index)"), idempotencyKey: "same", fingerprint: "f\(index)", events: [])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .inserted }.count == 1)
        let stored = try #require(try await repository.placement(idempotencyKey: "same"))
        for case .keyAlreadyUsed(let placement) in outcomes {
            #expect(placement == stored)
        }
    }
}
