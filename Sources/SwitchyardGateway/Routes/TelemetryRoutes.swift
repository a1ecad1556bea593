import Foundation
package import Hummingbird
import NIOCore
package import Logging
package import ServiceLifecycle
package import SwitchyardRuntime

/// `/metrics` (Prometheus text) and `/debug/traces/{id}` (the recent spans of a trace id or an
/// order id, as JSON, for `switchyard trace`). The gateway serves them on its listener; the
/// other services on their own small listener (`makeTelemetryHTTPServices`).
package struct TelemetryRoutes<Context: RequestContext>: Sendable {
    package let telemetry: Telemetry

    package init(telemetry: Telemetry) {
        self.telemetry = telemetry
    }

    package func register(on router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: telemetry.prometheusText()))
            )
        }
        router.get("/debug/traces/{id}") { _, context in
            guard let store = telemetry.recentTraces else {
                throw APIError(.notFound, code: "TRACES_NOT_KEPT", message: "this process keeps no traces in memory: tracing is off or exported over OTLP")
            }
            let id = context.parameters.get("id") ?? ""
            let spans = store.spans(matching: id)
            guard !spans.isEmpty else {
                throw APIError.notFound("no recent trace matches '\(id)' (a trace id of 32 hex digits, or an order id)")
            }
            return try JSONBody.response(spans)
        }
    }
}

/// The small HTTP listener of a service that has no other (`serve orders`, `inventory`,
/// `fulfillment`): `/metrics` and `/debug/traces/{id}`.
///
/// - Parameters:
///   - host: The address to bind.
///   - port: Its port; 0 picks a free one.
///   - telemetry: What the routes serve.
///   - logger: For the listener's own lines.
///   - onListening: Called with the bound address.
package func makeTelemetryHTTPServices(
    host: String,
    port: Int,
    telemetry: Telemetry,
    logger: Logger,
    onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
) -> [any Service] {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(JSONErrorMiddleware(logger: logger))
    TelemetryRoutes(telemetry: telemetry).register(on: router)
    let application = Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "switchyard-telemetry"),
        onServerRunning: { channel in onListening(ListeningAddress(host: host, port: channel.localAddress?.port ?? 0)) },
        logger: logger
    )
    return [application]
}
