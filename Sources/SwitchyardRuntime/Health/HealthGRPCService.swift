package import GRPCCore
package import SwitchyardContracts
import SwiftProtobuf

/// `grpc.health.v1.Health` over a `HealthStatusRegistry`, as Kubernetes gRPC probes and
/// grpc-health-probe expect it: Check answers NOT_FOUND for an unknown service; Watch
/// answers SERVICE_UNKNOWN for one and keeps the stream open until it becomes known.
package struct HealthGRPCService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    private let registry: HealthStatusRegistry

    package init(registry: HealthStatusRegistry) {
        self.registry = registry
    }

    package func check(
        request: Grpc_Health_V1_HealthCheckRequest,
        context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = registry.status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service: \(request.service)")
        }
        return .with { $0.status = status.servingStatus }
    }

    package func list(
        request: Grpc_Health_V1_HealthListRequest,
        context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthListResponse {
        .with { response in
            for (service, status) in registry.snapshot() {
                response.statuses[service] = .with { $0.status = status.servingStatus }
            }
        }
    }

    package func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        for await observation in registry.watch(service: request.service) {
            try await response.write(.with { $0.status = observation?.servingStatus ?? .serviceUnknown })
        }
    }
}

extension HealthStatusRegistry.Status {
    var servingStatus: Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        switch self {
        case .serving: .serving
        case .notServing: .notServing
        }
    }
}
