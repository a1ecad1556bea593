import Foundation
import GRDB
import SwitchyardInventory
import SwitchyardStorage
import SwitchyardTestSupport
import Synchronization
import Testing

/// The repository kinds every rule is checked against; a rule that holds for one and not
/// another is a bug in that one.
enum RepositoryKind: String, CaseIterable, CustomTestStringConvertible {
    case inMemory
    /// SQLite with GetStock answered by the in-memory read model (the default).
    case sqlite
    /// SQLite with every read going to the database.
    case sqliteUncached
    /// A fresh schema on the suite's throwaway PostgreSQL cluster.
    case postgres

    var testDescription: String { rawValue }

    func make(stock: [StockLevel]) async throws -> any InventoryRepository {
        switch self {
        case .inMemory:
            return InMemoryInventoryRepository(stock: stock)
        case .sqlite, .sqliteUncached:
            let directory = try PackagePaths.makeTemporaryDirectory()
            let pool = try SQLiteDatabase.open(
                configuration: .init(path: directory.appendingPathComponent("inventory.sqlite").path),
                migrations: SQLiteInventoryRepository.migrations,
                logger: .silent
            )
            let repository = try SQLiteInventoryRepository(database: pool, cachedReads: self == .sqlite)
            try await repository.seed(stock)
            return repository
        case .postgres:
            let database = try await PostgresTestEnvironment.required().makeDatabase(migrations: PostgresInventoryRepository.migrations)
            let repository = PostgresInventoryRepository(database: database)
            try await repository.seed(stock)
            return repository
        }
    }
}

private let start = Date(timeIntervalSince1970: 1_800_000_000)

private func request(_ orderID: String, _ lines: [(String, Int)], ttl: Duration? = nil) throws -> ReservationRequest {
    try ReservationRequest.validated(orderID: orderID, lines: lines.map { ReservationLine(sku: $0.0, quantity: $0.1) }, timeToLive: ttl)
}

private func quantity(_ repository: any InventoryRepository, _ sku: String) async throws -> Int? {
    try await repository.stock(sku: sku)?.quantity
}

@Suite("Inventory repository conformance", .postgresServer)
struct InventoryRepositoryConformanceTests {
    @Test("A reservation takes every line's units out of stock", arguments: RepositoryKind.allCases)
    func reserveTakesStock(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10), .init(sku: "b", quantity: 5)])
        let outcome = try await repository.reserve(request("o1", [("a", 3), ("b", 5)]), now: start)
        #expect(outcome.created)
        #expect(outcome.reservation.status == .reserved)
        #expect(outcome.reservation.lines == [.init(sku: "a", quantity: 3), .init(sku: "b", quantity: 5)])
        #expect(outcome.reservation.expiresAt == start.addingTimeInterval(15 * 60))
        #expect(try await quantity(repository, "a") == 7)
        #expect(try await quantity(repository, "b") == 0)
        #expect(try await repository.reservation(orderID: "o1") == outcome.reservation)
    }

    @Test("Reserving twice for the same order changes nothing the second time", arguments: RepositoryKind.allCases)
    func reserveIsIdempotent(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        let first = try await repository.reserve(request("o1", [("a", 4)]), now: start)
        let second = try await repository.reserve(request("o1", [("a", 4)]), now: start.addingTimeInterval(60))
        #expect(!second.created)
        #expect(second.reservation == first.reservation)
        #expect(try await quantity(repository, "a") == 6)
    }

    @Test("The same order with different lines is a conflict and changes nothing", arguments: RepositoryKind.allCases)
    func reserveConflict(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        _ = try await repository.reserve(request("o1", [("a", 4)]), now: start)
        await #expect(throws: InventoryError.reservationConflict(orderID: "o1")) {
            try await repository.reserve(request("o1", [("a", 5)]), now: start)
        }
        #expect(try await quantity(repository, "a") == 6)
    }

    @Test("Short stock reserves nothing and names every short SKU", arguments: RepositoryKind.allCases)
    func insufficientStock(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 2), .init(sku: "b", quantity: 1), .init(sku: "c", quantity: 9)])
        await #expect(throws: InventoryError.insufficientStock([
            .init(sku: "a", requested: 3, available: 2), .init(sku: "b", requested: 2, available: 1),
        ])) {
            try await repository.reserve(request("o1", [("c", 1), ("a", 3), ("b", 2)]), now: start)
        }
        #expect(try await quantity(repository, "a") == 2)
        #expect(try await quantity(repository, "c") == 9)
        #expect(try await repository.reservation(orderID: "o1") == nil)
    }

    @Test("Unknown SKUs reserve nothing and are named", arguments: RepositoryKind.allCases)
    func unknownSKU(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 2)])
        await #expect(throws: InventoryError.unknownSKUs(["x", "y"])) {
            try await repository.reserve(request("o1", [("a", 1), ("y", 1), ("x", 1)]), now: start)
        }
        #expect(try await quantity(repository, "a") == 2)
    }

    @Test("Confirm is idempotent and keeps the units out of stock", arguments: RepositoryKind.allCases)
    func confirm(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        _ = try await repository.reserve(request("o1", [("a", 4)]), now: start)
        #expect(try await repository.confirm(orderID: "o1").status == .confirmed)
        #expect(try await repository.confirm(orderID: "o1").status == .confirmed)
        #expect(try await quantity(repository, "a") == 6)
        // A confirmed reservation never expires and cannot be released.
        #expect(try await repository.expireReservations(now: start.addingTimeInterval(86_400)) == [])
        await #expect(throws: InventoryError.reservationTransitionNotAllowed(orderID: "o1", from: .confirmed, to: .released)) {
            try await repository.release(orderID: "o1", now: start)
        }
        await #expect(throws: InventoryError.reservationNotFound(orderID: "nope")) {
            try await repository.confirm(orderID: "nope")
        }
    }

    @Test("Release returns the units once, however often it is called", arguments: RepositoryKind.allCases)
    func release(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        _ = try await repository.reserve(request("o1", [("a", 4)]), now: start)
        #expect(try await repository.release(orderID: "o1", now: start).status == .released)
        #expect(try await repository.release(orderID: "o1", now: start).status == .released)
        #expect(try await quantity(repository, "a") == 10)
        await #expect(throws: InventoryError.reservationTransitionNotAllowed(orderID: "o1", from: .released, to: .confirmed)) {
            try await repository.confirm(orderID: "o1")
        }
        // The order keeps its history: reserving again for it changes nothing.
        let again = try await repository.reserve(request("o1", [("a", 4)]), now: start)
        #expect(!again.created)
        #expect(try await quantity(repository, "a") == 10)
    }

    @Test("A release that arrives before its reservation makes the late reservation a no-op", arguments: RepositoryKind.allCases)
    func releaseBeforeReserve(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        let tombstone = try await repository.release(orderID: "late", now: start)
        #expect(tombstone.status == .released)
        #expect(tombstone.lines.isEmpty)
        let late = try await repository.reserve(request("late", [("a", 4)]), now: start)
        #expect(!late.created)
        #expect(late.reservation.status == .released)
        #expect(try await quantity(repository, "a") == 10)
    }

    @Test("Expiry returns only due, unconfirmed reservations", arguments: RepositoryKind.allCases)
    func expiry(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        _ = try await repository.reserve(request("short", [("a", 1)], ttl: .seconds(60)), now: start)
        _ = try await repository.reserve(request("long", [("a", 2)], ttl: .seconds(600)), now: start)
        _ = try await repository.reserve(request("kept", [("a", 3)], ttl: .seconds(60)), now: start)
        _ = try await repository.confirm(orderID: "kept")
        #expect(try await repository.expireReservations(now: start.addingTimeInterval(59)) == [])
        #expect(try await repository.expireReservations(now: start.addingTimeInterval(60)) == ["short"])
        #expect(try await quantity(repository, "a") == 5)
        #expect(try await repository.reservation(orderID: "short")?.status == .expired)
        #expect(try await repository.expireReservations(now: start.addingTimeInterval(60)) == [])
        await #expect(throws: InventoryError.reservationTransitionNotAllowed(orderID: "short", from: .expired, to: .confirmed)) {
            try await repository.confirm(orderID: "short")
        }
        #expect(try await repository.expireReservations(now: start.addingTimeInterval(601)) == ["long"])
        #expect(try await quantity(repository, "a") == 7)
    }

    @Test("Concurrent reservations grant exactly the units there are", arguments: RepositoryKind.allCases)
    func concurrentReservations(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 25)])
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<60 {
                group.addTask {
                    do {
                        _ = try await repository.reserve(request("order-\(index)", [("a", 1)]), now: start)
                        return true
                    } catch InventoryError.insufficientStock {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 25)
        #expect(try await quantity(repository, "a") == 0)
    }

    @Test("Seeding adds missing SKUs and never resets existing ones", arguments: RepositoryKind.allCases)
    func seedKeepsSales(kind: RepositoryKind) async throws {
        let repository = try await kind.make(stock: [.init(sku: "a", quantity: 10)])
        _ = try await repository.reserve(request("o1", [("a", 4)]), now: start)
        try await repository.seed([.init(sku: "a", quantity: 10), .init(sku: "b", quantity: 3)])
        #expect(try await quantity(repository, "a") == 6)
        #expect(try await quantity(repository, "b") == 3)
    }

    @Test("Listing pages through every SKU in order", arguments: RepositoryKind.allCases)
    func listStockPages(kind: RepositoryKind) async throws {
        let stock = (0..<7).map { StockLevel(sku: "sku-\($0)", quantity: $0) }
        let repository = try await kind.make(stock: stock.shuffled())
        var seen: [StockLevel] = []
        var after: String?
        var pages = 0
        repeat {
            let page = try await repository.listStock(after: after, limit: 3)
            seen += page.items
            after = page.lastSKU
            pages += 1
        } while after != nil && pages < 10
        #expect(seen == stock)
        #expect(pages == 3)
    }

    @Test("Racing reserves, releases and expiries never lose or invent a unit", arguments: RepositoryKind.allCases)
    func racingChanges(kind: RepositoryKind) async throws {
        let skus = (0..<4).map { "sku-\($0)" }
        let repository = try await kind.make(stock: skus.map { StockLevel(sku: $0, quantity: 30) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<80 {
                group.addTask {
                    let orderID = "order-\(index)"
                    // Lines in both SKU orders, so lock-order mistakes would deadlock.
                    let lines = index % 2 == 0 ? [(skus[index % 4], 1), (skus[(index + 1) % 4], 2)] : [(skus[(index + 1) % 4], 2), (skus[index % 4], 1)]
                    _ = try? await repository.reserve(request(orderID, lines, ttl: .seconds(60)), now: start)
                    if index % 3 == 0 { _ = try await repository.release(orderID: orderID, now: start) }
                    if index % 5 == 0 { _ = try await repository.expireReservations(now: start.addingTimeInterval(61)) }
                }
            }
            try await group.waitForAll()
        }
        _ = try await repository.expireReservations(now: start.addingTimeInterval(61))
        for sku in skus {
            #expect(try await quantity(repository, sku) == 30)
        }
    }
}

@Suite("Stock read model")
struct StockReadModelTests {
    @Test("After racing reservations, releases and expiries, the read model matches the database")
    func matchesDatabase() async throws {
        let directory = try PackagePaths.makeTemporaryDirectory()
        let pool = try SQLiteDatabase.open(
            configuration: .init(path: directory.appendingPathComponent("inventory.sqlite").path),
            migrations: SQLiteInventoryRepository.migrations,
            logger: .silent
        )
        let cached = try SQLiteInventoryRepository(database: pool, cachedReads: true)
        let skus = (0..<5).map { "sku-\($0)" }
        try await cached.seed(skus.map { StockLevel(sku: $0, quantity: 40) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let orderID = "order-\(index)"
                    let lines = [(skus[index % 5], 1 + index % 3), (skus[(index + 1) % 5], 1)]
                    _ = try? await cached.reserve(request(orderID, lines, ttl: .seconds(60)), now: start)
                    if index % 3 == 0 { _ = try await cached.release(orderID: orderID, now: start) }
                }
            }
            try await group.waitForAll()
        }
        let uncached = try SQLiteInventoryRepository(database: pool, cachedReads: false)
        var changed = 0
        for sku in skus {
            let fromMemory = try await cached.stock(sku: sku)
            let fromDatabase = try await uncached.stock(sku: sku)
            #expect(fromMemory == fromDatabase)
            if fromDatabase?.quantity != 40 { changed += 1 }
        }
        #expect(changed > 0, "the reservations should have taken stock")
        _ = try await cached.expireReservations(now: start.addingTimeInterval(61))
        for sku in skus {
            let fromMemory = try await cached.stock(sku: sku)
            let fromDatabase = try await uncached.stock(sku: sku)
            #expect(fromMemory == fromDatabase)
            #expect(fromDatabase?.quantity == 40)
        }
        #expect(try await cached.stock(sku: "unknown") == nil)
    }
}

@Suite("Reservation request validation")
struct ReservationRequestValidationTests {
    @Test("Malformed requests are rejected with a message naming the problem", arguments: [
        ("", [("a", 1)], "order id must not be empty"),
        ("o1", [], "a reservation needs at least one line"),
        ("o1", [("a", 0)], "quantity for a must be at least 1, got 0"),
        ("o1", [("a", -3)], "quantity for a must be at least 1, got -3"),
        ("o1", [("", 1)], "SKU must not be empty"),
        ("o1", [("a", 1), ("a", 2)], "SKU a appears more than once; put its units on one line"),
        ("o\u{0}1", [("a", 1)], "order id contains control characters"),
        (String(repeating: "x", count: 129), [("a", 1)], "order id is longer than 128 bytes"),
    ])
    func rejects(orderID: String, lines: [(String, Int)], message: String) {
        #expect(throws: InventoryError.invalidArgument(message)) {
            try request(orderID, lines)
        }
    }

    @Test("More than 1000 lines are rejected")
    func tooManyLines() {
        #expect(throws: InventoryError.invalidArgument("a reservation has at most 1000 lines, got 1001")) {
            try request("o1", (0...1000).map { ("sku-\($0)", 1) })
        }
    }
}
