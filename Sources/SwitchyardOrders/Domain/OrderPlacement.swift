package import Foundation
import SwitchyardContracts
import SwitchyardEventBus
import SwitchyardRuntime

/// Placing an order, in the order the design fixes: validate (done by `PlaceOrderCommand`),
/// reserve the stock from inventory keyed by the order id, then store the order and its
/// `order.placed` event (in the outbox) in one local transaction. Nothing is stored unless the stock is held; stock reserved for an attempt that
/// fails is given back.
///
/// Every attempt gets a fresh order id, and the idempotency key (not the order id) is what
/// makes repeats safe: a repeat finds the stored order by its key. So an attempt that failed
/// can release its own reservation without any risk of releasing another attempt's, and a
/// client retrying with the same key after a failure gets a clean new attempt.
package struct OrderPlacement<Repository: OrdersRepository, Reservations: StockReservations>: Sendable {
    let repository: Repository
    let reservations: Reservations
    let gate: IdempotencyKeyGate
    let releases: ReleaseQueue
    let now: @Sendable () -> Date
    let makeOrderID: @Sendable () -> String
    /// Called after an order and its event are committed: wakes the outbox relay.
    let afterCommit: @Sendable () -> Void

    package init(
        repository: Repository,
        reservations: Reservations,
        gate: IdempotencyKeyGate = IdempotencyKeyGate(),
        releases: ReleaseQueue,
        now: @escaping @Sendable () -> Date = { Date() },
        makeOrderID: @escaping @Sendable () -> String = { LowercaseHex.randomIdentifier(prefix: "ord_") },
        afterCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.repository = repository
        self.reservations = reservations
        self.gate = gate
        self.releases = releases
        self.now = now
        self.makeOrderID = makeOrderID
        self.afterCommit = afterCommit
    }

    /// The order and whether this call created it (false when the key had placed it before).
    package struct Outcome: Sendable, Hashable {
        package var order: Order
        package var created: Bool
    }

    /// Places `command`'s order, or returns the one its idempotency key placed before.
    /// - Throws: `OrdersError`.
    package func place(_ command: PlaceOrderCommand) async throws -> Outcome {
        try await gate.withExclusiveAccess(to: command.idempotencyKey) {
            if let stored = try await repository.placement(idempotencyKey: command.idempotencyKey) {
                return try Self.replay(stored, of: command)
            }
            let orderID = makeOrderID()
            try await reserve(orderID: orderID, command: command)
            let order = Order(
                id: orderID,
                customerID: command.customerID,
                status: .placed,
                lines: command.lines,
                totalCents: command.totalCents,
                createdAt: now()
            )
            do {
                let placed = try Self.orderPlacedEvent(for: order)
                switch try await repository.insert(order, idempotencyKey: command.idempotencyKey, fingerprint: command.fingerprint, events: [placed]) {
                case .inserted:
                    afterCommit()
                    return Outcome(order: order, created: true)
                case .keyAlreadyUsed(let stored):
                    // Another replica placed this key first: ours is surplus.
                    releases.release(orderID: orderID, because: "another attempt placed this idempotency key first")
                    return try Self.replay(stored, of: command)
                }
            } catch {
                releases.release(orderID: orderID, because: "storing the order failed")
                throw error
            }
        }
    }

    /// `order.placed`, about the order (its subject), for the outbox.
    static func orderPlacedEvent(for order: Order) throws -> EventEnvelope {
        let payload = OrderPlaced(
            orderId: order.id,
            customerId: order.customerID,
            totalCents: order.totalCents,
            occurredAt: EventTime.string(order.createdAt)
        )
        return EventEnvelope(type: OrderPlaced.type, source: "/switchyard/orders", time: order.createdAt, subject: order.id, payload: try payload.encodedPayload())
    }

    private static func replay(_ stored: StoredPlacement, of command: PlaceOrderCommand) throws(OrdersError) -> Outcome {
        guard stored.fingerprint == command.fingerprint else {
            throw .idempotencyKeyReused(command.idempotencyKey)
        }
        return Outcome(order: stored.order, created: false)
    }

    private func reserve(orderID: String, command: PlaceOrderCommand) async throws {
        do {
            try await reservations.reserve(orderID: orderID, lines: command.lines)
        } catch let error as StockReservationError {
            switch error {
            case .insufficientStock(let message):
                throw OrdersError.insufficientStock(message)
            case .unknownSKUs(let message):
                throw OrdersError.unknownSKUs(message)
            case .rejected(let message):
                throw OrdersError.invalidArgument(message)
            case .notHeld(let message):
                releases.release(orderID: orderID, because: message)
                throw OrdersError.inventoryUnavailable(message)
            case .unavailable(let message):
                // The reservation may have been made before the failure: give it back.
                releases.release(orderID: orderID, because: "inventory failed during the reservation")
                throw OrdersError.inventoryUnavailable(message)
            case .deadlineExceeded(let message):
                releases.release(orderID: orderID, because: "the deadline passed during the reservation")
                throw OrdersError.deadlineExceeded(message)
            }
        }
    }
}
