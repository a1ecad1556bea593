import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

@Suite("Health status registry")
struct HealthStatusRegistryTests {
    @Test("Registered services start NOT_SERVING; unknown ones are unknown")
    func initialState() {
        let registry = HealthStatusRegistry(services: ["a.A"])
        #expect(registry.status(of: "") == .notServing)
        #expect(registry.status(of: "a.A") == .notServing)
        #expect(registry.status(of: "b.B") == nil)
    }

    @Test("A server is NOT_SERVING until it listens")
    func notServingBeforeRun() throws {
        let server = try GRPCServerService(name: "test", configuration: .init(port: 0), services: [GateService()], logger: .silent)
        #expect(server.health.status(of: "") == .notServing)
        #expect(server.health.status(of: "switchyard.test.Gate") == .notServing)
    }

    @Test("Watchers see the current status, every change, and NOT_SERVING at shutdown, then the end")
    func watchThroughShutdown() async {
        let registry = HealthStatusRegistry(services: ["a.A"])
        let stream = registry.watch(service: "a.A")
        registry.setStatus(.serving, of: "a.A")
        registry.setStatus(.serving, of: "a.A")  // no change, no event
        registry.enterShutdown()
        registry.setStatus(.serving, of: "a.A")  // ignored after shutdown
        var seen: [HealthStatusRegistry.Observation] = []
        for await observation in stream { seen.append(observation) }
        #expect(seen == [.notServing, .serving, .notServing])
        #expect(registry.status(of: "a.A") == .notServing)
    }

    @Test("Watching an unknown service reports unknown until it is registered")
    func watchUnknown() async {
        let registry = HealthStatusRegistry()
        let stream = registry.watch(service: "late.Service")
        registry.setStatus(.serving, of: "late.Service")
        registry.enterShutdown()
        var seen: [HealthStatusRegistry.Observation] = []
        for await observation in stream { seen.append(observation) }
        #expect(seen == [nil, .serving, .notServing])
    }
}

@Suite("grpc.health.v1 over loopback")
struct HealthGRPCTests {
    @Test("Check answers SERVING once listening, NOT_FOUND for unknown services; List names them all")
    func checkAndList() async throws {
        try await withTestServer(services: [GateService()]) { server, port, _ in
            try await withLoopbackGRPCClient(port: port) { grpc in
                let health = Grpc_Health_V1_Health.Client(wrapping: grpc)
                #expect(try await health.check(healthRequest("")).status == .serving)
                #expect(try await health.check(healthRequest("switchyard.test.Gate")).status == .serving)
                let unknown = healthRequest("no.Such")
                do {
                    let response = try await health.check(unknown)
                    Issue.record("expected NOT_FOUND, got \(response)")
                } catch let error as RPCError {
                    #expect(error.code == .notFound)
                    #expect(error.message == "unknown service: no.Such")
                }
                let list = try await health.list(.with { _ in })
                #expect(Set(list.statuses.keys) == ["", "switchyard.test.Gate", "grpc.health.v1.Health"])
                #expect(list.statuses.values.allSatisfy { $0.status == .serving })
            }
        }
    }

    @Test("Watch follows a service into graceful shutdown: SERVING, then NOT_SERVING, then the stream ends")
    func watchFollowsShutdown() async throws {
        try await withTestServer(services: [GateService()]) { server, port, group in
            try await withLoopbackGRPCClient(port: port) { grpc in
                let health = Grpc_Health_V1_Health.Client(wrapping: grpc)
                let statuses = try await health.watch(healthRequest("switchyard.test.Gate")) { response in
                    var seen: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
                    for try await message in response.messages {
                        seen.append(message.status)
                        if seen == [.serving] { await group.beginGracefulShutdown() }
                    }
                    return seen
                }
                #expect(statuses == [.serving, .notServing])
            }
        }
    }

    @Test("Watch reports SERVICE_UNKNOWN for a service the server does not host")
    func watchUnknownService() async throws {
        try await withTestServer { server, port, group in
            try await withLoopbackGRPCClient(port: port) { grpc in
                let health = Grpc_Health_V1_Health.Client(wrapping: grpc)
                let first = try await health.watch(healthRequest("no.Such")) { response in
                    var first: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
                    for try await message in response.messages {
                        first = message.status
                        break
                    }
                    return first
                }
                #expect(first == .serviceUnknown)
            }
        }
    }
}

/// A health request for `service`.
///
/// Built with a named closure parameter on purpose: with Swift 6.3 (debug builds), the
/// single-expression form `.with { $0.service = "literal" }` written inline inside these
/// async test closures produced an *empty* request (seen in this file; `Inventory_StockRequest`
/// with `$0.sku` in the same spot was fine). Multi-statement or named-parameter closures are not
/// affected.
func healthRequest(_ service: String) -> Grpc_Health_V1_HealthCheckRequest {
    .with { request in request.service = service }
}
