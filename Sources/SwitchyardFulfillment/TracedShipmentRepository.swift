package import Foundation
package import SwitchyardEventBus
import SwitchyardRuntime

/// A `ShipmentRepository` whose every call is a database span, and whose outbox events carry
/// the trace of the delivery that shipped them: read here, in the consumer's task, because the
/// transaction itself may run where the task's context is gone (GRDB's queue).
package struct TracedShipmentRepository: ShipmentRepository {
    package let base: any ShipmentRepository
    private let spans: DatabaseSpans

    package init(_ base: any ShipmentRepository, system: String) {
        self.base = base
        self.spans = DatabaseSpans(system: system, collection: "shipments")
    }

    package func ship(
        orderID: String,
        customerID: String,
        eventID: String,
        group: String,
        now: Date,
        makeEvents: @escaping @Sendable (Shipment) throws -> [EventEnvelope]
    ) async throws -> Shipment? {
        try await spans.run("ship") {
            let trace = TraceHeaders.current()
            return try await base.ship(orderID: orderID, customerID: customerID, eventID: eventID, group: group, now: now) { shipment in
                try makeEvents(shipment).map { $0.carrying(trace: trace) }
            }
        }
    }

    package func shipments(forOrder orderID: String) async throws -> [Shipment] {
        try await spans.run("select") { try await base.shipments(forOrder: orderID) }
    }

    package func count() async throws -> Int {
        try await base.count()
    }
}
