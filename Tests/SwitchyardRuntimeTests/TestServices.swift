import GRPCCore
import SwitchyardRuntime
import SwitchyardTestSupport
import Synchronization

/// `switchyard.test.Gate/Wait`: a unary call that holds until the test opens the latch, so a
/// test can have a call in flight at the moment it shuts the server down.
final class GateService: RegistrableRPCService, Sendable {
    static let wait = MethodDescriptor(fullyQualifiedService: "switchyard.test.Gate", method: "Wait")

    let latch = Latch()
    let arrivals = Mutex(0)

    var arrived: Int { arrivals.withLock { $0 } }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.wait,
            deserializer: RawDeserializer(),
            serializer: RawSerializer()
        ) { request, context in
            var received: [UInt8] = []
            for try await message in request.messages { received += message }
            self.arrivals.withLock { $0 += 1 }
            await self.latch.wait()
            return StreamingServerResponse(single: ServerResponse(message: received.reversed()))
        }
    }
}

/// Runs a `GRPCServerService` (health and reflection included) hosting `services` on
/// 127.0.0.1 port 0, and hands `body` the server, its port, and the group to shut it down.
func withTestServer(
    services: [any RegistrableRPCService] = [],
    maxMessageBytes: Int = GRPCServerConfiguration.defaultMaxMessageBytes,
    body: (GRPCServerService, Int, ServiceGroupHandle) async throws -> Void
) async throws {
    let server = try GRPCServerService(
        name: "test",
        configuration: .init(port: 0, maxMessageBytes: maxMessageBytes),
        services: services,
        logger: .silent
    )
    try await withRunningServices([server]) { group in
        let port = try await server.listeningAddress.port
        try await body(server, port, ServiceGroupHandle(group: group))
    }
}

import ServiceLifecycle

/// The part of a running ServiceGroup a test may touch.
struct ServiceGroupHandle: Sendable {
    let group: ServiceGroup
    func beginGracefulShutdown() async { await group.triggerGracefulShutdown() }
}
