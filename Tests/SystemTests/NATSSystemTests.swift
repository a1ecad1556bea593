import Foundation
import GRDB
import Logging
import SwitchyardNATS
import SwitchyardTestSupport
import Testing

/// The system on NATS JetStream instead of the embedded log: real processes, a real
/// nats-server, and a Python peer that reads the events with nothing of Switchyard's.
@Suite("NATS JetStream bus, end to end")
struct NATSSystemTests {
    @Test("Four serve processes on one nats-server: 200 orders ship exactly once each, the stock adds up, SIGTERM exits 0")
    func fourProcessesOnOneServer() async throws {
        let orderCount = 200
        let server = try await NATSServerProcess.start()
        defer { server.stop() }
        let system = try await ServeDeployment.start(bus: server.url)
        defer { system.forceStop() }
        let http = HTTPTestClient(baseURL: system.gatewayURL)
        let initialStock = try #require(try await http.get("/inventory/sku-5").json?["quantity"] as? Int)

        // No failures are injected, so every order must be accepted the first time.
        let accepted = AcceptedOrderLog()
        try await SystemHarness.placeOrders(
            gatewayURL: system.gatewayURL, limit: orderCount, clients: 8, keyPrefix: "nats-system", retrying: false, into: accepted
        )
        let ids = Set(accepted.all.values.map(\.id))
        #expect(accepted.count == orderCount)
        #expect(ids.count == orderCount, "one order per idempotency key")

        // order.placed goes orders → NATS → fulfillment, shipment.dispatched fulfillment → NATS
        // → orders: "shipped" means both hops crossed the bus.
        try await explained(system.logs) {
            try await SystemHarness.waitUntilShipped(ids, http: http, timeout: .seconds(120))
        }
        // Exactly one shipment each: no delivery had a double effect.
        let perOrder = try await SystemHarness.shipmentsPerOrder(databasePath: system.database("fulfillment"))
        #expect(perOrder.count == orderCount)
        #expect(perOrder.values.allSatisfy { $0 == 1 }, "orders shipped more than once: \(perOrder.filter { $0.value != 1 })")
        #expect(Set(perOrder.keys) == ids)
        // Inventory, the third consumer group, confirmed every reservation from its order.placed.
        try await explained(system.logs) {
            try await SystemHarness.waitUntilReservationsConfirmed(ids, databasePath: system.database("inventory"))
        }
        // One unit per order left the shelf, no more, no fewer.
        try await eventually("the stock to go down by \(orderCount)", timeout: .seconds(30), interval: .milliseconds(200)) {
            try await http.get("/inventory/sku-5").json?["quantity"] as? Int == initialStock - orderCount
        }
        // The bus itself: each event stored once (no duplicates from the relays), nothing
        // dead-lettered.
        let counts = try await SystemHarness.streamCounts(servers: server.url)
        #expect(counts.orderPlaced == orderCount)
        #expect(counts.shipments == orderCount)
        #expect(counts.deadLetters == 0)

        let statuses = try await system.terminate()
        #expect(statuses.count == 4)
        #expect(statuses.values.allSatisfy { $0 == 0 }, "exit statuses \(statuses)\n\(system.logs)")
    }

    @Test("A Python nats-py consumer reads every order.placed from JetStream: the article's exact body, and CloudEvents headers")
    func pythonReadsOrderPlaced() async throws {
        let orderCount = 20
        _ = try SystemHarness.python()
        let server = try await NATSServerProcess.start()
        defer { server.stop() }
        // `switchyard dev --bus`: the all-in-one process on NATS too.
        let data = try PackagePaths.makeTemporaryDirectory()
        let dev = try ManagedProcess(
            name: "switchyard dev",
            executable: PackagePaths.switchyardBinary,
            arguments: [
                "dev", "--port", "0", "--inventory-port", "0", "--orders-port", "0", "--data-directory", data.path, "--log-level", "notice",
                "--bus", server.url,
            ]
        )
        defer { dev.stop() }
        let gatewayURL = "http://127.0.0.1:\(try await dev.waitForListeningPort("gateway HTTP", timeout: .seconds(120)))"
        let accepted = AcceptedOrderLog()
        try await SystemHarness.placeOrders(gatewayURL: gatewayURL, limit: orderCount, clients: 4, keyPrefix: "nats-interop", retrying: false, into: accepted)
        let orders = Dictionary(uniqueKeysWithValues: accepted.all.values.map { ($0.id, $0) })
        #expect(orders.count == orderCount)
        // The events are published by the outbox relay after the 201s: the reader waits for
        // all of them (up to its timeout) rather than this test guessing when they are in.
        let output = try await SystemHarness.runPython("nats_order_placed_reader.py", [server.url, "\(orderCount)", "90"])
        let messages = output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(messages.count == orderCount, "reader printed:\n\(output)")

        var seen: Set<String> = []
        for message in messages {
            #expect(message["ce-type"] as? String == "order.placed")
            #expect(message["content-type"] as? String == "application/json")
            let ceID = try #require(message["ce-id"] as? String, "no ce-id: \(message)")
            #expect(seen.insert(ceID).inserted, "ce-id \(ceID) twice")
            let bodyText = try #require(message["body"] as? String)
            let body = try #require((try? JSONSerialization.jsonObject(with: Data(bodyText.utf8))) as? [String: Any], "body not a JSON object: \(bodyText)")
            // The article's contract: these four fields and nothing else.
            #expect(Set(body.keys) == ["orderId", "customerId", "totalCents", "occurredAt"], "body \(bodyText)")
            let orderID = try #require(body["orderId"] as? String)
            let order = try #require(orders[orderID], "an order.placed for an order nobody placed: \(bodyText)")
            #expect(body["customerId"] as? String == order.customerId)
            #expect(body["totalCents"] as? Int == order.totalCents)
            // The event says when the order was placed: the instant the gateway reported as
            // the order's createdAt (both RFC 3339 with milliseconds). Fails today, off by 1 ms
            // for about half the orders (a product bug: occurredAt truncates the sub-millisecond
            // Date, the stored createdAt rounds it, and the gateway's formatting of that can
            // print one millisecond less); kept strict so it shows.
            #expect(body["occurredAt"] as? String == order.createdAt, "occurredAt vs the gateway's createdAt, order \(orderID)")
            // The partition subject: order.placed.<n>.
            #expect((message["subject"] as? String)?.wholeMatch(of: /order\.placed\.[0-9]+/) != nil, "subject \(message["subject"] ?? "none")")
        }
        #expect(Set(messages.compactMap { ($0["body"] as? String).flatMap(Self.orderID(inBody:)) }) == Set(orders.keys))
        // Nothing beyond what the reader saw: one message per order in the stream.
        #expect(try await SystemHarness.streamCounts(servers: server.url).orderPlaced == orderCount)

        dev.send(signal: SIGTERM)
        #expect(try await dev.waitForExit(timeout: .seconds(60)) == 0, "\(dev.standardError.suffix(6000))")
    }

    private static func orderID(inBody text: String) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])?["orderId"] as? String
    }
}

/// Runs `body`; if it throws, records `logs` (the processes' output) with the error first, so
/// a timeout says what the services were doing.
func explained<T>(_ logs: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        Issue.record("\(error)\n\(logs())")
        throw error
    }
}

extension SystemHarness {
    /// Polls `GET /orders?id=` until every order of `ids` reads "shipped"; each poll asks only
    /// about the orders not yet seen shipped.
    static func waitUntilShipped(_ ids: Set<String>, http: HTTPTestClient, timeout: Duration) async throws {
        var pending = ids
        try await eventually("\(ids.count) orders to ship", timeout: timeout, interval: .milliseconds(250)) {
            for id in pending {
                guard try await http.get("/orders?id=\(id)").json?["status"] as? String == "shipped" else { return false }
                pending.remove(id)
            }
            return true
        }
    }

    /// Fulfillment's shipments, counted by order id (read-only, while fulfillment runs).
    static func shipmentsPerOrder(databasePath: String) async throws -> [String: Int] {
        let database = try readOnlyDatabase(databasePath)
        return try await database.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT order_id, COUNT(*) AS n FROM shipments GROUP BY order_id") {
                counts[row["order_id"]] = row["n"]
            }
            return counts
        }
    }

    /// Shipments fulfillment has made so far.
    static func shipmentCount(databasePath: String) async throws -> Int {
        guard FileManager.default.fileExists(atPath: databasePath) else { return 0 }
        return try await readOnlyDatabase(databasePath).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM shipments") ?? 0 }
    }

    /// Waits until inventory has confirmed the reservation of every order of `ids` (its
    /// consumer of order.placed did), and checks none of them is anything but confirmed.
    static func waitUntilReservationsConfirmed(_ ids: Set<String>, databasePath: String, timeout: Duration = .seconds(60)) async throws {
        let database = try readOnlyDatabase(databasePath)
        try await eventually("\(ids.count) reservations to be confirmed", timeout: timeout, interval: .milliseconds(250)) {
            let confirmed = try await database.read { db in
                try String.fetchSet(db, sql: "SELECT order_id FROM reservations WHERE status = 'confirmed'")
            }
            return ids.isSubset(of: confirmed)
        }
    }

    private static func readOnlyDatabase(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        // The service writes while the test reads.
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    struct StreamCounts {
        var orderPlaced: Int
        var shipments: Int
        var deadLetters: Int
    }

    /// Messages in the order, shipment and dead-letter streams, asked of JetStream by a
    /// client of the test's own (retried: in a cluster, a stream may be between leaders).
    static func streamCounts(servers: String) async throws -> StreamCounts {
        try await withNATSClient(servers: servers) { client in
            let jetStream = JetStream(client: client)
            return try await eventually("stream info", timeout: .seconds(60), interval: .milliseconds(250)) {
                // A failed request (nil) is asked again; a stream that does not exist counts 0.
                func messages(_ stream: String) async -> Int?? {
                    do {
                        return .some(try await jetStream.streamInfo(stream).map { Int($0.state.messages) })
                    } catch {
                        return nil
                    }
                }
                guard let order = await messages("SWITCHYARD_ORDER"), let shipment = await messages("SWITCHYARD_SHIPMENT"),
                    let deadLetters = await messages("SWITCHYARD_DEAD_LETTERS")
                else { return nil }
                return StreamCounts(orderPlaced: order ?? 0, shipments: shipment ?? 0, deadLetters: deadLetters ?? 0)
            }
        }
    }

    /// Runs `body` with a NATS client of the test's own, closed afterwards whatever happens.
    static func withNATSClient<R: Sendable>(servers: String, _ body: (NATSClient) async throws -> R) async throws -> R {
        var options = NATSClientOptions(name: "switchyard-system-test")
        options.connectTimeout = .seconds(10)
        // Its reconnects, when the test kills the node it is on, are expected: not logged.
        var logger = Logger(label: "system-test.nats")
        logger.logLevel = .error
        let client = try await NATSClient.connect(servers: [servers], options: options, logger: logger)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}
