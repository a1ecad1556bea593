package import GRPCCore
package import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// Where a downstream gRPC service listens, as configured (`<scope>.host`, `<scope>.port`).
package struct GRPCClientConfiguration: Sendable, Hashable {
    package var host: String
    package var port: Int

    package init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }
}

/// How a client finds its downstream: a configured address, or, inside one process, the
/// address the downstream publishes when it binds.
package enum DownstreamTarget: Sendable {
    case address(GRPCClientConfiguration)
    case published(service: String, book: ServiceAddressBook)
}

/// A gRPC client as a `Service`: its connections run for as long as the process does, and
/// close gracefully (calls in flight finish) on shutdown. Put it before the services that use
/// it in the ServiceGroup, so it starts first and stops last.
package final class GRPCClientService: Service, Sendable {
    package let client: GRPCClient<HTTP2ClientTransport.Posix>
    package let name: String

    /// - Parameters:
    ///   - name: The downstream's name, for logs.
    ///   - target: Where it listens.
    package init(name: String, target: DownstreamTarget) throws {
        self.name = name
        let transport: HTTP2ClientTransport.Posix
        switch target {
        case .address(let configuration):
            transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: configuration.host, port: configuration.port),
                transportSecurity: .plaintext
            )
        case .published(let service, let book):
            var resolvers = NameResolverRegistry.defaults
            resolvers.registerFactory(PublishedServiceResolverFactory())
            transport = try HTTP2ClientTransport.Posix(
                target: PublishedServiceTarget(service: service, book: book),
                transportSecurity: .plaintext,
                resolverRegistry: resolvers
            )
        }
        self.client = GRPCClient(transport: transport)
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            self.client.beginGracefulShutdown()
        }
    }
}
