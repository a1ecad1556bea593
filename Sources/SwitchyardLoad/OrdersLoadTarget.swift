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

    /// Checks every accepted order with `GET /orders?id=` until it answers 200, giving up
    /// after `timeout` in all; returns how many were visible.
    package func countVisible(timeout: Duration = .seconds(60)) async throws -> Int {
        let ids = acceptedIDs
        guard !ids.isEmpty else { return 0 }
        let probe = try HTTPLoadTarget(url: "\(gateway)/orders", perRequestPath: { index in "/orders?id=\(ids[index % ids.count])" })
        let connection = try await probe.connect()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var visible = 0
        for index in ids.indices {
            while ContinuousClock.now < deadline {
                if (try? await connection.send(number: index)) != nil {
                    visible += 1
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        await connection.close()
        return visible
    }
}

/// Order ids collected across workers.
final class AcceptedOrders: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ id: String) { state.withLock { $0.append(id) } }
    var ids: [String] { state.withLock { $0 } }
}
