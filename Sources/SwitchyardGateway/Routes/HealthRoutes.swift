import GRPCCore
import Hummingbird
import SwiftProtobuf
import SwitchyardContracts

/// `/health/live`: the process answers. `/health/ready`: every gRPC service the gateway needs
/// reports SERVING, so a load balancer sends traffic only when requests can succeed.
struct HealthRoutes<Context: RequestContext>: Sendable {
    let downstreams: GatewayDownstreams
    let checkTimeout: Duration

    func register(on router: Router<Context>) {
        router.get("/health/live") { _, _ in JSONBody.rawResponse(#"{"status":"live"}"#.utf8) }
        router.get("/health/ready", use: ready)
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        async let orders = status(of: downstreams.ordersHealth)
        async let inventory = status(of: downstreams.inventoryHealth)
        let checks = ["orders": await orders, "inventory": await inventory]
        let failing = checks.filter { $0.value != "SERVING" }.sorted { $0.key < $1.key }
        guard failing.isEmpty else {
            let detail = failing.map { "\($0.key) is \($0.value)" }.joined(separator: ", ")
            throw APIError(.serviceUnavailable, code: "NOT_READY", message: "not ready: \(detail)")
        }
        return try JSONBody.response(ReadyBody(status: "ready", checks: checks))
    }

    struct ReadyBody: Encodable {
        var status: String
        var checks: [String: String]
    }

    private func status(of health: Grpc_Health_V1_Health.Client<some ClientTransport>) async -> String {
        var options = CallOptions.defaults
        options.timeout = checkTimeout
        do {
            let response = try await health.check(Grpc_Health_V1_HealthCheckRequest(), options: options)
            switch response.status {
            case .serving: return "SERVING"
            case .notServing: return "NOT_SERVING"
            default: return "UNKNOWN"
            }
        } catch let error as RPCError {
            return error.code == .deadlineExceeded ? "NOT_RESPONDING" : "UNREACHABLE"
        } catch {
            return "UNREACHABLE"
        }
    }
}
