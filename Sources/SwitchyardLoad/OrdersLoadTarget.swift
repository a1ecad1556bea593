import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Places real orders through the gateway, each with its own Idempotency-Key, and remembers
/// the ids it was given so the run can then check that every accepted order is visible.
package struct OrdersLoadTarget: LoadTarget {
    private let http: HTTPLoadTarget
    private let accepted = AcceptedOrders()
    package let gateway: String

    package var name: String { "POST \(gateway)/orders" }

    /// - Parameters:
    ///   - gateway: The gateway's base URL.
    ///   - sku: What every order buys (one unit); pick one with plenty of stock.
    ///   - runID: Makes this run's idempotency keys unique.
    package init(gateway: String, sku: String, runID: String = UUID().uuidString) throws {
        self.gateway = gateway
        self.http = try HTTPLoadTarget(
            url: "\(gateway)/orders",
            method: .POST,
            body: #"{"customerId": "load-\#(runID)", "lines": [{"sku": "\#(sku)", "quantity": 1, "unitPriceCents": 100}]}"#,
            perRequestHeaders: { number in [("Idempotency-Key", "load-\(runID)-\(number)")] }
        )
    }

    package func connect() async throws -> Connection {
        Connection(http: try await http.connect(), accepted: accepted)
    }

    /// The ids of the orders the gateway accepted (201) so far.
    package var acceptedIDs: [String] { accepted.ids }

    package struct Connection: LoadConnection {
        let http: HTTPLoadTarget.Connection
        let accepted: AcceptedOrders

        package func send(number: Int) async throws {
            let body = try await http.exchange(number: number, collectingBody: true)
            guard
                let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let id = object["id"] as? String
            else { throw LoadTargetError.badStatus(0) }
            accepted.append(id)
        }

        package func close() async { await http.close() }
    }

    /// What the orders looked like after the run.
    package struct Outcome: Sendable {
        /// Accepted orders that `GET /orders/{id}` found.
        package var visible: Int
        /// Accepted orders that reached `shipped`.
        package var shipped: Int
        /// placed→shipped per shipped order: from the order's `createdAt` to its `shippedAt`,
        /// both stamped by the orders service (so no polling delay is counted), milliseconds
        /// resolution.
        package var placedToShipped: LatencySample
    }

    /// Looks up every accepted order with `GET /orders/{id}` until it is visible (and, with
    /// `untilShipped`, shipped), giving up after `timeout` in all.
    /// - Parameters:
    ///   - untilShipped: Whether to wait for `shipped` and measure placed→shipped.
    ///   - workers: Connections probing in parallel.
    package func inspectAccepted(untilShipped: Bool, timeout: Duration = .seconds(60), workers: Int = 8) async throws -> Outcome {
        let ids = acceptedIDs
        guard !ids.isEmpty else { return Outcome(visible: 0, shipped: 0, placedToShipped: LatencySample()) }
        let probe = try HTTPLoadTarget(url: "\(gateway)/orders", perRequestPath: { index in "/orders/\(ids[index % ids.count])" })
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            for worker in 0..<min(workers, ids.count) {
                group.addTask {
                    var outcome = Outcome(visible: 0, shipped: 0, placedToShipped: LatencySample())
                    var connection = try await probe.connect()
                    for index in stride(from: worker, to: ids.count, by: workers) {
                        var seen = false
                        while ContinuousClock.now < deadline {
                            let state: OrderState?
                            do {
                                state = OrderState(try await connection.exchange(number: index, collectingBody: true))
                            } catch LoadTargetError.badStatus {
                                state = nil  // not visible yet
                            } catch {
                                await connection.close()
                                connection = try await probe.connect()
                                continue
                            }
                            if let state {
                                if !seen { outcome.visible += 1 }
                                seen = true
                                if !untilShipped { break }
                                if let shippedAfter = state.shippedAfter {
                                    outcome.shipped += 1
                                    outcome.placedToShipped.record(shippedAfter)
                                    break
                                }
                            }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                    await connection.close()
                    return outcome
                }
            }
            var total = Outcome(visible: 0, shipped: 0, placedToShipped: LatencySample())
            for try await outcome in group {
                total.visible += outcome.visible
                total.shipped += outcome.shipped
                total.placedToShipped.merge(outcome.placedToShipped)
            }
            return total
        }
    }
}

/// The part of a gateway order the load command reads.
struct OrderState {
    /// `shippedAt − createdAt` once shipped.
    var shippedAfter: Duration?

    /// Nil when `body` is not an order.
    init?(_ body: ByteBuffer) {
        guard
            let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let status = object["status"] as? String
        else { return nil }
        guard
            status == "shipped",
            let created = (object["createdAt"] as? String).flatMap(Self.date(from:)),
            let shipped = (object["shippedAt"] as? String).flatMap(Self.date(from:))
        else { return }
        shippedAfter = .milliseconds(max(0, Int64(((shipped.timeIntervalSince(created)) * 1000).rounded())))
    }

    private static func date(from text: String) -> Date? {
        try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Order ids collected across workers.
final class AcceptedOrders: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ id: String) { state.withLock { $0.append(id) } }
    var ids: [String] { state.withLock { $0 } }
}
