package import GRPCCore
package import Logging
import ServiceLifecycle
import SwitchyardContracts

/// A host and port a server is bound to, read back after binding (so port 0 resolves).
package struct ListeningAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package var description: String { "\(host):\(port)" }
}

/// A transport that is never started: it only lets `RPCRouter` collect the method names the
/// application's services register, before the real server exists.
private struct InProcessNamesOnlyTransport: ServerTransport {
    typealias Bytes = [UInt8]
    func listen(streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void) async throws {}
    func beginGracefulShutdown() {}
}

/// A gRPC server as a swift-service-lifecycle `Service`, with health and reflection always
/// installed. Every Switchyard gRPC server is built here, so every one answers generic tools.
///
/// Its life, as health reports it:
/// 1. built: every service NOT_SERVING;
/// 2. bound: every service SERVING, and `onListening` called with the real address;
/// 3. graceful shutdown: NOT_SERVING again, Watch streams told and closed, no new calls
///    accepted, in-flight calls finish, then `run()` returns.
///
/// ```swift
/// let server = try GRPCServerService(
///     name: "inventory", configuration: .init(port: 0),
///     services: [InventoryGRPCService(repository: repository)], logger: logger
/// ) { address in print("inventory gRPC on \(address)") }
/// try await ServiceGroup(services: [server], logger: logger).run()
/// ```
package final class GRPCServerService: Service {
    package let name: String
    /// The statuses this server reports; a service may mark itself NOT_SERVING while degraded.
    package let health: HealthStatusRegistry
    private let server: ErasedGRPCServer
    private let logger: Logger
    private let onListening: @Sendable (ListeningAddress) -> Void
    private let configuration: GRPCServerConfiguration

    /// - Parameters:
    ///   - name: The service's name in logs (e.g. `inventory`).
    ///   - configuration: Address and limits.
    ///   - services: The application's RPC services; health and reflection are added.
    ///   - descriptorIndex: What reflection serves; defaults to every file in `Protos/`.
    ///   - logger: For lifecycle lines and failed calls.
    ///   - onListening: Called once with the bound address, after health turns SERVING.
    /// - Throws: When the embedded descriptor set cannot be read (a build defect).
    package init(
        name: String,
        configuration: GRPCServerConfiguration,
        services: [any RegistrableRPCService],
        descriptorIndex: DescriptorIndex? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }
    ) throws {
        // The names the application's services register are what reflection lists and
        // what health reports, next to the two standard services themselves.
        var applicationRouter = RPCRouter<InProcessNamesOnlyTransport>()
        for service in services { service.registerMethods(with: &applicationRouter) }
        let applicationNames = Set(applicationRouter.methods.map(\.service.fullyQualifiedService))
        let standardNames = [Grpc_Health_V1_Health.descriptor.fullyQualifiedService]
            + ReflectionGRPCService.methods.map(\.service.fullyQualifiedService)
        let allNames = applicationNames.union(standardNames).sorted()

        let health = HealthStatusRegistry(services: Array(applicationNames) + [Grpc_Health_V1_Health.descriptor.fullyQualifiedService])
        let reflection = ReflectionGRPCService(
            serviceNames: allNames,
            index: try descriptorIndex ?? DescriptorIndex(base64: GeneratedDescriptorSet.base64)
        )

        self.name = name
        self.configuration = configuration
        self.health = health
        self.logger = logger
        self.onListening = onListening
        self.server = ErasedGRPCServer.make(
            kind: configuration.transport,
            configuration: configuration,
            services: services + [HealthGRPCService(registry: health), reflection],
            // Telemetry outermost: its span covers the others, so their log lines carry the trace.
            interceptors: [ServerTelemetryInterceptor(serviceName: name), FailureLoggingInterceptor(logger: logger), DeadlinePropagationInterceptor()]
        )
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.server.serve() }
                let bound: ListeningAddress
                do {
                    bound = try await self.server.listeningAddress()
                } catch {
                    // The transport failed to bind; `serve()` fails with the reason (such as
                    // "address already in use"), which says far more than "no address".
                    do {
                        try await group.waitForAll()
                    } catch let serveError {
                        throw GRPCServerStartupError(service: name, host: configuration.host, port: configuration.port, cause: serveError)
                    }
                    throw GRPCServerStartupError(service: name, host: configuration.host, port: configuration.port, cause: error)
                }
                self.health.setAll(.serving)
                self.logger.info("gRPC server listening", metadata: ["switchyard.service": "\(self.name)", "switchyard.address": "\(bound)"])
                self.onListening(bound)
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.logger.info("gRPC server draining", metadata: ["switchyard.service": "\(self.name)"])
            self.health.enterShutdown()
            self.server.beginGracefulShutdown()
        }
        logger.info("gRPC server stopped", metadata: ["switchyard.service": "\(name)"])
    }

    /// The bound address; waits until the server has bound.
    package var listeningAddress: ListeningAddress {
        get async throws { try await server.listeningAddress() }
    }
}

/// A gRPC server that could not start listening, with the underlying reason.
package struct GRPCServerStartupError: Error, CustomStringConvertible {
    package var service: String
    package var host: String
    package var port: Int
    package var cause: any Error

    package var description: String {
        "\(service) cannot listen on \(host):\(port): \(Self.rootCause(of: cause))"
    }

    /// grpc-swift wraps transport failures in `RuntimeError`s; the innermost cause is the one
    /// an operator can act on.
    private static func rootCause(of error: any Error) -> String {
        var current: any Error = error
        while let wrapped = current as? RuntimeError, let cause = wrapped.cause {
            current = cause
        }
        return "\(current)"
    }
}
