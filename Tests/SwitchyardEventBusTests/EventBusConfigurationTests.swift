import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

@Suite("Event bus configuration: embedded or JetStream")
struct EventBusConfigurationTests {
    @Test("No bus.url is the embedded log; a list of nats:// URLs is JetStream, with its bus.nats.* settings")
    func engineChoice() async throws {
        let embedded = try EventBusConfiguration(reader: try await SwitchyardConfigReader.make(commandLine: [:], environment: [:]))
        #expect(embedded.natsServers.isEmpty)

        let reader = try await SwitchyardConfigReader.make(
            commandLine: ["bus.url": "nats://127.0.0.1:4222, nats://127.0.0.1:4223", "bus.nats.partitions": "8"],
            environment: ["SWITCHYARD_BUS_NATS_REPLICAS": "3", "SWITCHYARD_BUS_NATS_NAMESPACE": "staging"]
        )
        let nats = try EventBusConfiguration(reader: reader)
        #expect(nats.natsServers == ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"])
        #expect(nats.jetStream.layout == JetStreamLayout(namespace: "staging", partitions: 8))
        #expect(nats.jetStream.replicas == 3)
        #expect(nats.jetStream.retention == .seconds(168 * 3600))
    }

    @Test("A bus.url that is not nats://… is refused, naming the key")
    func refusesOtherURLs() async throws {
        let reader = try await SwitchyardConfigReader.make(commandLine: ["bus.url": "kafka://127.0.0.1:9092"], environment: [:])
        #expect {
            try EventBusConfiguration(reader: reader)
        } throws: { error in
            "\(error)".contains("bus.url") && "\(error)".contains("kafka://127.0.0.1:9092")
        }
    }

    @Test("A NATS server that is not there is a clear startup error, not a hang")
    func unreachableServer() async throws {
        let port = try freeLoopbackPort()
        var configuration = EventBusConfiguration(path: "/nonexistent", natsServers: ["nats://127.0.0.1:\(port)"])
        configuration.jetStream.replicas = 1
        await #expect(throws: (any Error).self) {
            _ = try await configuration.open(logger: .silent)
        }
    }
}
