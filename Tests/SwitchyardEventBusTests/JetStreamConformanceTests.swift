import Foundation
import Logging
import SwitchyardEventBus
import SwitchyardNATS
import SwitchyardTestSupport
import Synchronization
import Testing

/// One nats-server per factory (so per test), each bus in a namespace of its own on it;
/// reopening connects a new client to the same server and namespace.
final class JetStreamFactory: EventBusFactory, Sendable {
    /// The nats-server to run; the default one (scripts/ensure-nats-server's) when `nil`.
    private let binary: URL?
    private let server = Mutex<NATSServerProcess?>(nil)
    private let namespaces = Mutex<[ObjectIdentifier: String]>([:])

    init(binary: URL? = nil) {
        self.binary = binary
    }

    deinit {
        server.withLock { $0?.stop() }
    }

    private func serverURL() async throws -> String {
        if let running = server.withLock({ $0 }) { return running.url }
        let started = try await NATSServerProcess.start(binary: binary)
        let winner = server.withLock { current -> NATSServerProcess in
            if let current { return current }
            current = started
            return started
        }
        if winner !== started { started.stop() }
        return winner.url
    }

    func makeBus() async throws -> any EventBus {
        try await open(namespace: "t\(UInt32.random(in: 0...UInt32.max))")
    }

    func reopen(_ bus: any EventBus) async throws -> any EventBus {
        guard let namespace = namespaces.withLock({ $0[ObjectIdentifier(bus as AnyObject)] }) else { throw SetupError.unknownBus }
        return try await open(namespace: namespace)
    }

    private func open(namespace: String) async throws -> JetStreamEventBus {
        // Few reconnect attempts: the server dies with the factory while clients may live on.
        var options = NATSClientOptions()
        options.maxReconnectAttempts = 3
        let client = try await NATSClient.connect(servers: [try await serverURL()], options: options, logger: Logger(label: "test.nats") { _ in SwiftLogNoOpLogHandler() })
        let bus = JetStreamEventBus(
            client: client,
            settings: .init(layout: JetStreamLayout(namespace: namespace, partitions: 4), pullExpiry: .seconds(1)),
            logger: Logger(label: "test.bus") { _ in SwiftLogNoOpLogHandler() }
        )
        namespaces.withLock { $0[ObjectIdentifier(bus)] = namespace }
        return bus
    }

    enum SetupError: Error { case unknownBus }
}
