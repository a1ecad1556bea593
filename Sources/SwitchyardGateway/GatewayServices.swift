package import Hummingbird
package import Logging
import NIOCore
package import ServiceLifecycle
package import SwitchyardRuntime

/// The gateway's routes on a router: the composition both the live server and router-level
/// tests use.
package func makeGatewayRouter(
    configuration: GatewayConfiguration,
    downstreams: GatewayDownstreams,
    logger: Logger,
    telemetry: Telemetry = Telemetry()
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    // Middleware first: Hummingbird wraps each route as it is added. The request's server span
    // and its metrics (`http.server.request.duration` per route, method and status) are
    // outermost, so they see the status the JSON error middleware settled on.
    router.middlewares.add(GatewayTracingMiddleware())
    router.middlewares.add(HTTPMetricsMiddleware())
    router.middlewares.add(JSONErrorMiddleware(logger: logger))
    router.middlewares.add(RequestDeadlineMiddleware(timeout: configuration.requestTimeout))
    OrdersRoutes(downstreams: downstreams, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
    InventoryRoutes(downstreams: downstreams).register(on: router)
    HealthRoutes(downstreams: downstreams, checkTimeout: .milliseconds(500)).register(on: router)
    OpenAPIDocument.register(on: router)
    TelemetryRoutes(telemetry: telemetry).register(on: router)
    return router
}

/// The gateway's composition root: a gRPC client per downstream (each behind its own
/// bulkhead), then the Hummingbird application, in start order.
///
/// - Parameters:
///   - configuration: Where to listen and whom to call.
///   - orders: How to reach orders; the configured address unless told otherwise.
///   - inventory: How to reach inventory; likewise.
///   - logger: The gateway's logger.
///   - onListening: Called with the HTTP address once it serves.
package func makeGatewayServices(
    configuration: GatewayConfiguration,
    orders: DownstreamTarget? = nil,
    inventory: DownstreamTarget? = nil,
    logger: Logger,
    telemetry: Telemetry = Telemetry(),
    onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
) throws -> [any Service] {
    var logger = logger
    logger[metadataKey: "service"] = "gateway"
    let ordersClient = try GRPCClientService(name: "orders", target: orders ?? .address(configuration.orders), transport: configuration.orders.transport)
    let inventoryClient = try GRPCClientService(
        name: "inventory",
        target: inventory ?? .address(configuration.inventory),
        transport: configuration.inventory.transport
    )
    let downstreams = GatewayDownstreams(
        orders: ordersClient.client,
        ordersPolicy: DownstreamCallPolicy(
            defaultTimeout: configuration.requestTimeout,
            bulkhead: Bulkhead(name: "orders", maxConcurrent: configuration.ordersMaxConcurrentCalls, maxQueued: configuration.ordersMaxConcurrentCalls * 4),
            timeouts: ordersClient.callTimeouts
        ),
        inventory: inventoryClient.client,
        inventoryPolicy: DownstreamCallPolicy(
            defaultTimeout: configuration.requestTimeout,
            bulkhead: Bulkhead(name: "inventory", maxConcurrent: configuration.inventoryMaxConcurrentCalls, maxQueued: configuration.inventoryMaxConcurrentCalls * 4),
            timeouts: inventoryClient.callTimeouts
        )
    )
    let router = makeGatewayRouter(configuration: configuration, downstreams: downstreams, logger: logger, telemetry: telemetry)
    let host = configuration.host
    let application = Application(
        router: router,
        server: .loopBoundHTTP1(),
        configuration: .init(address: .hostname(host, port: configuration.port), serverName: "switchyard"),
        onServerRunning: { channel in
            onListening(ListeningAddress(host: host, port: channel.localAddress?.port ?? 0))
        },
        logger: logger
    )
    return [ordersClient, inventoryClient, application]
}
