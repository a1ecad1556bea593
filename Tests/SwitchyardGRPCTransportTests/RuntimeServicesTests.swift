import GRPCCore
import ServiceLifecycle
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime
import SwitchyardTestSupport
import Synchronization
import Testing

/// The project's own server builder on this transport: health (server streaming Watch) and
/// reflection (bidirectional) run unchanged.
@Suite("SwitchyardHTTP2ServerTransport: health and reflection through GRPCServerService")
struct RuntimeServicesTests {
    @Test("Health Check and Watch, reflection's service list, Watch told NOT_SERVING on shutdown")
    func healthAndReflection() async throws {
        let server = try GRPCServerService(
            name: "transport-test",
            configuration: .init(port: 0, transport: .switchyard),
            services: [EchoService()],
            logger: .silent
        )
        try await withRunningServices([server]) { group in
            let port = try await server.listeningAddress.port
            try await withLoopbackGRPCClient(port: port) { client in
                let health = Grpc_Health_V1_Health.Client(wrapping: client)
                let checked = try await health.check(.with { $0.service = EchoService.serviceName })
                #expect(checked.status == .serving)

                let reflection = Grpc_Reflection_V1_ServerReflection.Client(wrapping: client)
                let names = try await reflection.serverReflectionInfo(requestProducer: { writer in
                    try await writer.write(.with { $0.listServices = "" })
                }) { response in
                    var names: [String] = []
                    for try await message in response.messages {
                        names += message.listServicesResponse.service.map(\.name)
                    }
                    return names
                }
                #expect(names.contains(EchoService.serviceName))
                #expect(names.contains("grpc.health.v1.Health"))

                let seen = WatchLog()
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask {
                        try await health.watch(.with { $0.service = EchoService.serviceName }) { response in
                            for try await message in response.messages {
                                seen.append(message.status)
                            }
                        }
                    }
                    try await eventually("Watch to report SERVING", timeout: .seconds(10)) {
                        seen.statuses == [.serving]
                    }
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
                #expect(seen.statuses == [.serving, .notServing])
            }
        }
    }
}

/// The statuses a Watch stream delivered, in order.
final class WatchLog: Sendable {
    private let state = Mutex<[Grpc_Health_V1_HealthCheckResponse.ServingStatus]>([])
    func append(_ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus) { state.withLock { $0.append(status) } }
    var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] { state.withLock { $0 } }
}
