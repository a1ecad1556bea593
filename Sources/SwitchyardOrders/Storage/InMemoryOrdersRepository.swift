package import Foundation
import SwitchyardRuntime
package import SwitchyardEventBus
import Synchronization

/// An `OrdersRepository` in memory: the reference for the conformance suite, and a stand-in for
/// tests of other layers.
package final class InMemoryOrdersRepository: OrdersRepository {
    private struct State {
        var orders: [String: Order] = [:]
        var byKey: [String: (orderID: String, fingerprint: String)] = [:]
        var outbox: [EventEnvelope] = []
        var inbox: Set<String> = []
    }

    private let state = Mutex(State())

    package init() {}

    package func order(id: String) async throws -> Order? {
        state.withLock { $0.orders[id] }
    }

    package func placement(idempotencyKey: String) async throws -> StoredPlacement? {
        state.withLock { state in
            guard let entry = state.byKey[idempotencyKey], let order = state.orders[entry.orderID] else { return nil }
            return StoredPlacement(order: order, fingerprint: entry.fingerprint)
        }
    }

    /// Events queued so far (in-memory stand-in for the outbox table).
    package var outbox: [EventEnvelope] { state.withLock { $0.outbox } }

    package func markShipped(orderID: String, eventID: String, group: String, at shippedAt: Date) async throws -> ShipmentOutcome {
        state.withLock { state in
            guard state.orders[orderID] != nil else { return .orderNotFound }
            guard state.inbox.insert("\(group)/\(eventID)").inserted else { return .alreadyApplied }
            state.orders[orderID]?.status = .shipped
            state.orders[orderID]?.shippedAt = shippedAt
            return .marked
        }
    }

    package func insert(_ order: Order, idempotencyKey: String, fingerprint: String, events: [EventEnvelope]) async throws -> OrderInsertOutcome {
        state.withLock { state in
            if let entry = state.byKey[idempotencyKey], let existing = state.orders[entry.orderID] {
                return .keyAlreadyUsed(StoredPlacement(order: existing, fingerprint: entry.fingerprint))
            }
            state.orders[order.id] = order
            state.byKey[idempotencyKey] = (order.id, fingerprint)
            state.outbox += events
            return .inserted
        }
    }

    package func orders(customerID: String, after cursor: OrderCursor?, limit: Int) async throws -> OrdersPage {
        state.withLock { state in
            let sorted = state.orders.values
                .filter { $0.customerID == customerID }
                .sorted { ($0.createdAt.unixMilliseconds, $0.id) > ($1.createdAt.unixMilliseconds, $1.id) }
                .filter { order in
                    guard let cursor else { return true }
                    return (order.createdAt.unixMilliseconds, order.id) < (cursor.createdAtUnixMilliseconds, cursor.orderID)
                }
            let page = Array(sorted.prefix(limit))
            return OrdersPage(orders: page, next: sorted.count > limit ? page.last.map(OrderCursor.init(after:)) : nil)
        }
    }
}
