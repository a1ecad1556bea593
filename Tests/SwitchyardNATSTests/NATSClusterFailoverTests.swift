import NIOCore
import SwitchyardNATS
import SwitchyardTestSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct NATSClusterFailoverTests {
    /// Given only the first node, the client learns the others from INFO and moves to one of
    /// them when its server dies, re-subscribing there.
    @Test func failsOverToALearnedServer() async throws {
        let cluster = try await NATSCluster.start(size: 3, name: "failover-test")
        defer { cluster.stop() }
        var options = NATSClientOptions(name: "failover")
        options.reconnectBackoff = .init(initial: .milliseconds(20), maximum: .milliseconds(200))
        try await withClient([cluster.nodes[0].url], options: options) { client in
            try await eventually("servers learned", timeout: .seconds(10)) { client.knownServers.count == 3 }
            let subscription = try await client.subscribe(subject: "failover.test")
            cluster.nodes[0].stop()
            try await eventually("reconnected elsewhere", timeout: .seconds(15)) {
                client.isConnected && client.reconnectCount >= 1 && client.currentServer?.port != cluster.nodes[0].port
            }
            try client.publish(subject: "failover.test", payload: ByteBuffer(string: "after failover"))
            #expect(try await collect(1, from: subscription).map(\.text) == ["after failover"])
        }
    }
}
