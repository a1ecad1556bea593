import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardInventory
import SwitchyardRuntime
import SwitchyardStorage
import SwitchyardTestSupport
import Synchronization
import Testing

/// A clock tests move by hand, so expiry needs no waiting.
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

typealias InventoryClient = Inventory_Inventory.Client<HTTP2ClientTransport.Posix>

/// Serves a real `InventoryGRPCService` over SQLite on 127.0.0.1, port 0, and hands `body` a
/// client connected to it over loopback.
func withInventoryServer(
    stock: [StockLevel],
    clock: ManualClock = ManualClock(),
    body: (InventoryClient) async throws -> Void
) async throws {
    let directory = try PackagePaths.makeTemporaryDirectory()
    let pool = try SQLiteDatabase.open(
        configuration: .init(path: directory.appendingPathComponent("inventory.sqlite").path),
        migrations: SQLiteInventoryRepository.migrations,
        logger: .silent
    )
    let repository = try SQLiteInventoryRepository(database: pool)
    try await repository.seed(stock)
    let server = try GRPCServerService(
        name: "inventory",
        configuration: .init(port: 0),
        services: [InventoryGRPCService(repository: repository, now: { clock.now })],
        logger: .silent
    )
    try await withRunningServices([server]) { _ in
        let port = try await server.listeningAddress.port
        try await withLoopbackGRPCClient(port: port) { client in
            try await body(InventoryClient(wrapping: client))
        }
    }
}

/// The code and message of the RPCError `call` throws; fails the test if it succeeds.
func rpcError(_ call: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> RPCError? {
    do {
        try await call()
        Issue.record("expected the call to fail", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        Issue.record("expected an RPCError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func reserveRequest(_ orderID: String, _ lines: [(String, Int32)], ttlSeconds: Int64 = 0) -> Inventory_ReserveStockRequest {
    .with { request in
        request.orderID = orderID
        request.lines = lines.map { line in .with { $0.sku = line.0; $0.quantity = line.1 } }
        request.ttlSeconds = ttlSeconds
    }
}

@Suite("inventory.Inventory over loopback")
struct InventoryGRPCServiceTests {
    @Test("GetStock answers the article's contract")
    func getStock() async throws {
        try await withInventoryServer(stock: [.init(sku: "sku-1", quantity: 42)]) { client in
            let response = try await client.getStock(.with { $0.sku = "sku-1" })
            #expect(response.sku == "sku-1")
            #expect(response.quantity == 42)
        }
    }

    @Test("GetStock: unknown SKU is NOT_FOUND naming it; empty SKU is INVALID_ARGUMENT")
    func getStockErrors() async throws {
        try await withInventoryServer(stock: [.init(sku: "sku-1", quantity: 42)]) { client in
            let unknown = await rpcError { _ = try await client.getStock(.with { $0.sku = "no-such-sku" }) }
            #expect(unknown?.code == .notFound)
            #expect(unknown?.message == "unknown SKU: no-such-sku")
            let empty = await rpcError { _ = try await client.getStock(.with { $0.sku = "" }) }
            #expect(empty?.code == .invalidArgument)
            #expect(empty?.message == "SKU must not be empty")
        }
    }

    @Test("ListStock pages through the catalogue; bad paging input is INVALID_ARGUMENT")
    func listStock() async throws {
        let stock = (1...5).map { StockLevel(sku: "sku-\($0)", quantity: $0 * 10) }
        try await withInventoryServer(stock: stock) { client in
            let first = try await client.listStock(.with { $0.pageSize = 2 })
            #expect(first.items.map(\.sku) == ["sku-1", "sku-2"])
            let second = try await client.listStock(.with { $0.pageSize = 2; $0.pageToken = first.nextPageToken })
            #expect(second.items.map(\.sku) == ["sku-3", "sku-4"])
            let last = try await client.listStock(.with { $0.pageSize = 2; $0.pageToken = second.nextPageToken })
            #expect(last.items.map(\.quantity) == [50])
            #expect(last.nextPageToken.isEmpty)
            let all = try await client.listStock(.with { _ in })
            #expect(all.items.count == 5)

            let negative = await rpcError { _ = try await client.listStock(.with { $0.pageSize = -1 }) }
            #expect(negative?.code == .invalidArgument)
            let badToken = await rpcError { _ = try await client.listStock(.with { $0.pageToken = "%%%" }) }
            #expect(badToken?.code == .invalidArgument)
        }
    }

    @Test("Every reservation rule, through the wire")
    func reservationRules() async throws {
        let clock = ManualClock()
        try await withInventoryServer(stock: [.init(sku: "a", quantity: 10), .init(sku: "b", quantity: 2)], clock: clock) { client in
            // Reserve takes the units; a second identical call changes nothing.
            let first = try await client.reserveStock(reserveRequest("o1", [("a", 3), ("b", 1)]))
            #expect(first.reservation.status == .reserved)
            #expect(first.reservation.lines.map(\.sku) == ["a", "b"])
            #expect(first.reservation.expiresAtUnixMs - first.reservation.createdAtUnixMs == 15 * 60 * 1000)
            let again = try await client.reserveStock(reserveRequest("o1", [("b", 1), ("a", 3)]))
            #expect(again.reservation == first.reservation)
            #expect(try await client.getStock(.with { $0.sku = "a" }).quantity == 7)

            // Different lines for the same order, short stock, unknown SKUs, bad quantities.
            let conflict = await rpcError { _ = try await client.reserveStock(reserveRequest("o1", [("a", 4)])) }
            #expect(conflict?.code == .alreadyExists)
            let short = await rpcError { _ = try await client.reserveStock(reserveRequest("o2", [("a", 8), ("b", 2)])) }
            #expect(short?.code == .failedPrecondition)
            #expect(short?.message == "insufficient stock for a (requested 8, available 7), b (requested 2, available 1)")
            let unknown = await rpcError { _ = try await client.reserveStock(reserveRequest("o3", [("zzz", 1)])) }
            #expect(unknown?.code == .notFound)
            #expect(unknown?.message == "unknown SKU: zzz")
            let zero = await rpcError { _ = try await client.reserveStock(reserveRequest("o4", [("a", 0)])) }
            #expect(zero?.code == .invalidArgument)
            let negativeTTL = await rpcError { _ = try await client.reserveStock(reserveRequest("o4", [("a", 1)], ttlSeconds: -5)) }
            #expect(negativeTTL?.code == .invalidArgument)
            #expect(try await client.getStock(.with { $0.sku = "a" }).quantity == 7)

            // Confirm, twice; then neither release nor expiry touches it.
            #expect(try await client.confirmReservation(.with { $0.orderID = "o1" }).reservation.status == .confirmed)
            #expect(try await client.confirmReservation(.with { $0.orderID = "o1" }).reservation.status == .confirmed)
            let releaseConfirmed = await rpcError { _ = try await client.releaseReservation(.with { $0.orderID = "o1" }) }
            #expect(releaseConfirmed?.code == .failedPrecondition)
            let missing = await rpcError { _ = try await client.confirmReservation(.with { $0.orderID = "nobody" }) }
            #expect(missing?.code == .notFound)

            // Release returns units once; a released reservation cannot be confirmed.
            _ = try await client.reserveStock(reserveRequest("o5", [("a", 2)]))
            #expect(try await client.releaseReservation(.with { $0.orderID = "o5" }).reservation.status == .released)
            #expect(try await client.releaseReservation(.with { $0.orderID = "o5" }).reservation.status == .released)
            #expect(try await client.getStock(.with { $0.sku = "a" }).quantity == 7)
            let confirmReleased = await rpcError { _ = try await client.confirmReservation(.with { $0.orderID = "o5" }) }
            #expect(confirmReleased?.code == .failedPrecondition)

            // Expiry: nothing is due until the deadline passes, then the units come back.
            _ = try await client.reserveStock(reserveRequest("o6", [("a", 5)], ttlSeconds: 60))
            #expect(try await client.expireReservations(.with { _ in }).expiredOrderIds == [])
            clock.advance(by: 61)
            #expect(try await client.expireReservations(.with { _ in }).expiredOrderIds == ["o6"])
            #expect(try await client.getStock(.with { $0.sku = "a" }).quantity == 7)
            #expect(try await client.getReservation(.with { $0.orderID = "o6" }).reservation.status == .expired)
            let noReservation = await rpcError { _ = try await client.getReservation(.with { $0.orderID = "o7" }) }
            #expect(noReservation?.code == .notFound)
        }
    }

    @Test("50 concurrent reservations racing for the last 10 units: exactly 10 are granted")
    func racingReservations() async throws {
        try await withInventoryServer(stock: [.init(sku: "last", quantity: 10)]) { client in
            let outcomes = try await withThrowingTaskGroup(of: RPCError.Code?.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        do {
                            _ = try await client.reserveStock(reserveRequest("race-\(index)", [("last", 1)]))
                            return nil
                        } catch let error as RPCError {
                            return error.code
                        }
                    }
                }
                return try await group.reduce(into: [RPCError.Code?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 10)
            #expect(outcomes.filter { $0 == .failedPrecondition }.count == 40)
            #expect(try await client.getStock(.with { $0.sku = "last" }).quantity == 0)
        }
    }
}
