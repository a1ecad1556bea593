import Foundation
import SwitchyardNATS
import SwitchyardTestSupport
import Synchronization
import Testing

/// The cluster's nodes as they are now: a killed node restarted is a new process.
private final class ClusterNodes: Sendable {
    private let nodes: Mutex<[String: NATSServerProcess]>

    init(_ cluster: NATSCluster) {
        nodes = Mutex(Dictionary(uniqueKeysWithValues: cluster.nodes.map { ($0.name, $0) }))
    }

    func node(named name: String) -> NATSServerProcess? { nodes.withLock { $0[name] } }
    func replace(_ node: NATSServerProcess) { nodes.withLock { $0[node.name] = node } }
    func stopAll() { for node in nodes.withLock({ Array($0.values) }) { node.stop() } }
}

/// Which leaders the test killed, for the report.
private final class KillLog: Sendable {
    private let entries = Mutex<[String]>([])
    func record(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

@Suite("NATS JetStream failover")
struct NATSFailoverTests {
    static let stream = "SWITCHYARD_ORDER"

    @Test("kill -9 the order stream's leader, then a fulfillment consumer's leader, while orders flow: every accepted order ships exactly once, and no service is restarted")
    func leadersKilledWhileOrdersFlow() async throws {
        let cluster = try await NATSCluster.start(size: 3)
        let nodes = ClusterNodes(cluster)
        defer { nodes.stopAll() }
        // "Server is ready" comes before the nodes have elected a JetStream meta leader; until
        // then JetStream requests go unanswered. The services start on a cluster that is up.
        // (One that is not makes a service exit: see JetStreamEventBus.consume in the report.)
        try await SystemHarness.withNATSClient(servers: cluster.urls) { client in
            try await eventually("the cluster's JetStream to answer", timeout: .seconds(60), interval: .milliseconds(250)) {
                (try? await JetStream(client: client).streamNames()) != nil
            }
        }
        let system = try await ServeDeployment.start(
            bus: cluster.urls,
            settings: [
                // Every stream on all three nodes: a node's loss loses no event.
                "bus.nats.replicas=3",
                // A delivery whose ack died with a leader comes again after the group's
                // AckWait; with one delivery in flight per partition, the default 30 s would
                // stall that partition for longer than this test should wait.
                "bus.groups.inventory.ackTimeoutSeconds=3", "bus.groups.fulfillment.ackTimeoutSeconds=3",
                "bus.groups.orders.ackTimeoutSeconds=3",
            ]
        )
        defer { system.forceStop() }
        let http = HTTPTestClient(baseURL: system.gatewayURL)
        let initialStock = try #require(try await http.get("/inventory/sku-5").json?["quantity"] as? Int)
        let fulfillmentDatabase = system.database("fulfillment")

        let accepted = AcceptedOrderLog()
        let stop = StopSignal()
        let killed = KillLog()
        try await SystemHarness.withNATSClient(servers: cluster.urls) { client in
            let jetStream = JetStream(client: client)
            /// Orders flow (again): `count` orders accepted after `since` accepted orders have
            /// shipped, i.e. were published to the cluster and consumed from it since then.
            func waitForFlow(after since: Int, count: Int, _ what: String) async throws {
                try await explained(system.logs) {
                    try await eventually(what, timeout: .seconds(120), interval: .milliseconds(100)) {
                        try await SystemHarness.shipmentCount(databasePath: fulfillmentDatabase) >= since + count
                    }
                }
            }

            // Failover of a running system: first every group's durable consumers must exist.
            // (A JetStream request that fails while a service is still creating them ends that
            // service: JetStreamEventBus.consume does not retry its setup.)
            try await explained(system.logs) {
                try await Self.waitUntilConsumersExist(jetStream: jetStream)
            }

            try await withThrowingTaskGroup(of: Void.self) { group in
                // Clients, paced so a minute of chaos is hundreds of orders, not thousands. Each
                // order is retried with its own key until it gets its 201.
                group.addTask {
                    try await SystemHarness.placeOrders(
                        gatewayURL: system.gatewayURL, limit: 5000, clients: 4, keyPrefix: "failover", retrying: true,
                        pause: .milliseconds(40), stop: stop, into: accepted
                    )
                }
                group.addTask {
                    defer { stop.stop() }
                    try await waitForFlow(after: 0, count: 20, "the first orders to ship")

                    // 1. The stream leader: publishing (the outbox relay) and every consumer of
                    // the stream lose their leader at once.
                    let streamLeader = try await Self.leader(what: "the order stream's leader") { try await jetStream.streamInfo(Self.stream)?.cluster?.leader }
                    let firstVictim = try #require(nodes.node(named: streamLeader))
                    let acceptedAtFirstKill = accepted.count
                    firstVictim.stop()
                    killed.record("stream leader \(streamLeader)")
                    try await waitForFlow(after: acceptedAtFirstKill, count: 20, "orders to flow again after killing stream leader \(streamLeader)")

                    // Back to three nodes before the second kill: two of three must stay up
                    // for a quorum, and the restarted node must have caught up to count.
                    // restart() keeps the port, the data and the cluster arguments: the node
                    // rejoins its cluster.
                    nodes.replace(try await firstVictim.restart())
                    try await Self.waitUntilCurrent(client: client, api: "STREAM.INFO.\(Self.stream)", peers: 2)

                    // 2. A fulfillment consumer's leader, preferably on another node than the
                    // stream's (new) leader, so this kill moves consumer leaders only.
                    let newStreamLeader = try await Self.leader(what: "the order stream's new leader") { try await jetStream.streamInfo(Self.stream)?.cluster?.leader }
                    var consumerLeaders: [(consumer: String, leader: String)] = []
                    for partition in 0..<16 {
                        let consumer = "fulfillment_order-placed_\(partition)"
                        let leader = try await Self.leader(what: "\(consumer)'s leader") {
                            try await jetStream.consumerInfo(stream: Self.stream, consumer: consumer)?.cluster?.leader
                        }
                        consumerLeaders.append((consumer, leader))
                    }
                    let (consumer, consumerLeader) = try #require(consumerLeaders.first { $0.leader != newStreamLeader } ?? consumerLeaders.first)
                    try await Self.waitUntilCurrent(client: client, api: "CONSUMER.INFO.\(Self.stream).\(consumer)", peers: 2)
                    let secondVictim = try #require(nodes.node(named: consumerLeader))
                    #expect(secondVictim.isRunning, "a consumer leader that is not running")
                    let acceptedAtSecondKill = accepted.count
                    secondVictim.stop()
                    killed.record(
                        "\(consumer) leader \(consumerLeader)"
                            + (consumerLeader == newStreamLeader ? " (also the stream's leader: no consumer led elsewhere)" : "")
                    )
                    try await waitForFlow(after: acceptedAtSecondKill, count: 20, "orders to flow again after killing \(consumer)'s leader \(consumerLeader)")
                }
                // A failure of either task ends the other (leaving the group cancels it).
                for try await _ in group {}
            }
        }
        let killedLeaders = killed.all
        #expect(killedLeaders.count == 2, "killed: \(killedLeaders)")

        // The services rode it out on their own: none of them exited (none was restarted).
        for process in system.processes {
            #expect(process.isRunning, "\(process.name) exited\n\(process.standardError.suffix(6000))")
        }
        let ids = Set(accepted.all.values.map(\.id))
        #expect(ids.count == accepted.count, "one order per idempotency key")
        // Every accepted order ships: no event was lost with a leader.
        try await explained(system.logs) {
            try await SystemHarness.waitUntilShipped(ids, http: http, timeout: .seconds(180))
        }
        // Exactly once: redeliveries after a lost ack had no second effect.
        let perOrder = try await SystemHarness.shipmentsPerOrder(databasePath: fulfillmentDatabase)
        #expect(perOrder.count == ids.count)
        #expect(perOrder.values.allSatisfy { $0 == 1 }, "orders shipped more than once: \(perOrder.filter { $0.value != 1 })")
        #expect(Set(perOrder.keys) == ids)
        try await explained(system.logs) {
            try await SystemHarness.waitUntilReservationsConfirmed(ids, databasePath: system.database("inventory"), timeout: .seconds(120))
        }
        try await eventually("the stock to go down by \(ids.count)", timeout: .seconds(60), interval: .milliseconds(250)) {
            try await http.get("/inventory/sku-5").json?["quantity"] as? Int == initialStock - ids.count
        }
        // A relay that published again after losing a PubAck to the failover was deduplicated
        // (Nats-Msg-Id), and nothing was dead-lettered.
        let counts = try await SystemHarness.streamCounts(servers: cluster.urls)
        #expect(counts.orderPlaced == ids.count, "order.placed messages for \(ids.count) orders")
        #expect(counts.shipments == ids.count, "shipment.dispatched messages for \(ids.count) orders")
        #expect(counts.deadLetters == 0)

        let statuses = try await system.terminate()
        #expect(statuses.values.allSatisfy { $0 == 0 }, "exit statuses \(statuses)\n\(system.logs)")
    }

    @Test("A service started while the cluster has no JetStream quorum keeps running, and consumes once the cluster is whole again")
    func serviceOutlivesMissingQuorum() async throws {
        let cluster = try await NATSCluster.start(size: 3)
        let nodes = ClusterNodes(cluster)
        defer { nodes.stopAll() }
        let survivor = try #require(cluster.node(named: "n1"))
        let stopped = cluster.nodes.filter { $0.name != survivor.name }
        // One node of three: no quorum, so no JetStream meta leader, so JetStream requests go
        // unanswered, as they do for a while whenever a cluster starts or loses its leader.
        for node in stopped { node.stop() }
        let data = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-fulfillment")
        let fulfillment = try ManagedProcess(
            name: "switchyard serve fulfillment",
            executable: PackagePaths.switchyardBinary,
            arguments: [
                "serve", "fulfillment", "--bus", cluster.urls, "--data-directory", data.path, "--log-level", "notice", "--set", "bus.nats.replicas=3",
            ]
        )
        defer { fulfillment.stop() }
        _ = try await fulfillment.waitForOutput(matching: "fulfillment consuming order.placed as group fulfillment", timeout: .seconds(120))
        // Long enough for its first requests to time out (JetStream requests wait 5 s): a
        // service must ride that out, not exit. (Not a synchronisation: the wait is the test.)
        do {
            try await eventually("fulfillment to exit while the cluster lacks a quorum", timeout: .seconds(15), interval: .milliseconds(250)) {
                !fulfillment.isRunning
            }
            Issue.record("fulfillment exited (status \(fulfillment.exitStatus.map(String.init) ?? "?")) while JetStream had no quorum:\n\(fulfillment.standardError.suffix(4000))")
            return  // nothing left to consume with
        } catch is DeadlineExceeded {
            // Still running: as it should be.
        }
        // The cluster whole again: the service creates its consumers by itself.
        for node in stopped {
            nodes.replace(try await node.restart())
        }
        try await SystemHarness.withNATSClient(servers: cluster.urls) { client in
            let jetStream = JetStream(client: client)
            try await eventually("fulfillment's 16 durable consumers to exist", timeout: .seconds(90), interval: .milliseconds(250)) {
                var count = 0
                for partition in 0..<16 where (try? await jetStream.consumerInfo(stream: Self.stream, consumer: "fulfillment_order-placed_\(partition)")) != nil {
                    count += 1
                }
                return count == 16
            }
        }
        #expect(fulfillment.isRunning)
        fulfillment.send(signal: SIGTERM)
        #expect(try await fulfillment.waitForExit(timeout: .seconds(60)) == 0, "\(fulfillment.standardError.suffix(4000))")
    }

    /// Waits until the 16 durable consumers of each group exist: fulfillment and inventory
    /// on order.placed, orders on shipment.dispatched.
    private static func waitUntilConsumersExist(jetStream: JetStream) async throws {
        let expected = (0..<16).flatMap { partition in
            [
                (stream, "fulfillment_order-placed_\(partition)"), (stream, "inventory_order-placed_\(partition)"),
                ("SWITCHYARD_SHIPMENT", "orders_shipment-dispatched_\(partition)"),
            ]
        }
        var missing = expected
        try await eventually("every group's 48 durable consumers to exist", timeout: .seconds(120), interval: .milliseconds(250)) {
            var stillMissing: [(String, String)] = []
            for (stream, consumer) in missing where (try? await jetStream.consumerInfo(stream: stream, consumer: consumer)) == nil {
                stillMissing.append((stream, consumer))
            }
            missing = stillMissing
            return missing.isEmpty
        }
    }

    /// A leader's server name, asked until there is one (an election may be under way, or the
    /// test's own connection may be moving to another node).
    private static func leader(what: String, _ ask: () async throws -> String?) async throws -> String {
        try await eventually(what, timeout: .seconds(60), interval: .milliseconds(200)) {
            guard let leader = try? await ask(), !leader.isEmpty else { return nil }
            return leader
        }
    }

    /// Waits until the stream or consumer behind `api` (e.g. "STREAM.INFO.X") has a leader and
    /// `peers` other replicas that are current. Read from the raw API reply: the client's
    /// ClusterInfo carries only the leader.
    private static func waitUntilCurrent(client: NATSClient, api: String, peers: Int) async throws {
        var lastReply = "(none)"
        try await explained(lastReply) {
            try await eventually("\(api): a leader and \(peers) current replicas", timeout: .seconds(90), interval: .milliseconds(250)) {
                guard let reply = try? await client.request(subject: "$JS.API.\(api)", payload: [], timeout: .seconds(5)) else { return false }
                lastReply = String(decoding: reply.payloadBytes, as: UTF8.self)
                guard let json = (try? JSONSerialization.jsonObject(with: Data(reply.payloadBytes))) as? [String: Any],
                    let cluster = json["cluster"] as? [String: Any], cluster["leader"] is String,
                    let replicas = cluster["replicas"] as? [[String: Any]]
                else { return false }
                return replicas.count == peers && replicas.allSatisfy { $0["current"] as? Bool == true }
            }
        }
    }
}
