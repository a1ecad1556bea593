package import Foundation
import SwitchyardRuntime

/// An `InventoryRepository` whose every call is a database span (`reserve stock`, …).
package struct TracedInventoryRepository<Base: InventoryRepository>: InventoryRepository {
    package let base: Base
    private let spans: DatabaseSpans

    package init(_ base: Base, system: String) {
        self.base = base
        self.spans = DatabaseSpans(system: system, collection: "stock")
    }

    package func stock(sku: String) async throws -> StockLevel? {
        try await spans.run("select") { try await base.stock(sku: sku) }
    }

    package func listStock(after afterSKU: String?, limit: Int) async throws -> StockPage {
        try await spans.run("list") { try await base.listStock(after: afterSKU, limit: limit) }
    }

    package func seed(_ catalogue: [StockLevel]) async throws {
        try await spans.run("seed") { try await base.seed(catalogue) }
    }

    package func reserve(_ request: ReservationRequest, now: Date) async throws -> ReservationOutcome {
        try await spans.run("reserve") { try await base.reserve(request, now: now) }
    }

    package func confirm(orderID: String) async throws -> Reservation {
        try await spans.run("confirm") { try await base.confirm(orderID: orderID) }
    }

    package func confirm(orderID: String, forEvent eventID: String, group: String) async throws -> Reservation? {
        try await spans.run("confirm") { try await base.confirm(orderID: orderID, forEvent: eventID, group: group) }
    }

    package func release(orderID: String, now: Date) async throws -> Reservation {
        try await spans.run("release") { try await base.release(orderID: orderID, now: now) }
    }

    package func expireReservations(now: Date) async throws -> [String] {
        try await spans.run("expire") { try await base.expireReservations(now: now) }
    }

    package func reservation(orderID: String) async throws -> Reservation? {
        try await spans.run("select_reservation") { try await base.reservation(orderID: orderID) }
    }

    package func outstandingReservations() async throws -> Int {
        try await base.outstandingReservations()
    }
}
