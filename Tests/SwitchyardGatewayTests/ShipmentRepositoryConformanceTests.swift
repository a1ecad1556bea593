import Foundation
import SwitchyardEventBus
import SwitchyardFulfillment
import SwitchyardRuntime
import SwitchyardStorage
import SwitchyardTestSupport
import Testing

/// Fulfillment's storage engines.
enum ShipmentRepositoryKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    func make() async throws -> any ShipmentRepository {
        switch self {
        case .sqlite:
            let directory = try PackagePaths.makeTemporaryDirectory()
            let pool = try SQLiteDatabase.open(
                configuration: .init(path: directory.appendingPathComponent("fulfillment.sqlite").path),
                migrations: SQLiteShipmentRepository.migrations,
                logger: .silent
            )
            return SQLiteShipmentRepository(database: pool)
        case .postgres:
            return PostgresShipmentRepository(database: try await PostgresTestEnvironment.required().makeDatabase(migrations: PostgresShipmentRepository.migrations))
        }
    }
}

private func dispatched(_ shipment: Shipment) -> [EventEnvelope] {
    [EventEnvelope(type: "shipment.dispatched", source: "/test", subject: shipment.orderID, payload: Array(#"{"orderId":"\#(shipment.orderID)"}"#.utf8))]
}

@Suite("Shipment repository conformance", .postgresServer)
struct ShipmentRepositoryConformanceTests {
    @Test("An order ships once, however often its event is delivered", arguments: ShipmentRepositoryKind.allCases)
    func shipsOnce(kind: ShipmentRepositoryKind) async throws {
        let repository = try await kind.make()
        let now = Date(unixMilliseconds: 1_800_000_000_000)
        let first = try #require(try await repository.ship(orderID: "o1", customerID: "c1", eventID: "e1", group: "fulfillment", now: now, makeEvents: dispatched))
        #expect(first.orderID == "o1")
        #expect(first.createdAt == now)
        #expect(try await repository.ship(orderID: "o1", customerID: "c1", eventID: "e1", group: "fulfillment", now: now, makeEvents: dispatched) == nil)
        // A second event for the same order keeps the first shipment.
        let again = try await repository.ship(orderID: "o1", customerID: "c1", eventID: "e2", group: "fulfillment", now: now, makeEvents: dispatched)
        #expect(again == first)
        #expect(try await repository.shipments(forOrder: "o1") == [first])
        #expect(try await repository.count() == 1)
        #expect(try await repository.shipments(forOrder: "nope").isEmpty)
    }

    @Test("Consumers racing on one event ship it once", arguments: ShipmentRepositoryKind.allCases)
    func racingDeliveries(kind: ShipmentRepositoryKind) async throws {
        let repository = try await kind.make()
        let shipped = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await repository.ship(orderID: "o1", customerID: "c1", eventID: "e1", group: "fulfillment", now: Date(), makeEvents: dispatched) != nil
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(shipped == 1)
        #expect(try await repository.count() == 1)
    }
}
