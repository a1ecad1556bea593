import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import SwitchyardGRPCTransport

/// Which HTTP/2 implementation a gRPC server runs on. Both serve the same grpc-swift
/// services, interceptors, health and reflection; only the connection handling differs.
package enum GRPCServerTransportKind: String, Sendable, Hashable, CaseIterable {
    /// grpc-swift-nio-transport's HTTP/2 server: the reference implementation.
    case grpcNIO = "grpc-nio"
    /// `SwitchyardHTTP2ServerTransport`: one HTTP/2 handler per connection, calls served on
    /// the connection's event loop.
    case switchyard = "switchyard"
}

/// A gRPC server with its transport erased, so `GRPCServerService` does not care which one runs.
struct ErasedGRPCServer: Sendable {
    let serve: @Sendable () async throws -> Void
    let beginGracefulShutdown: @Sendable () -> Void
    let listeningAddress: @Sendable () async throws -> ListeningAddress
}

extension ErasedGRPCServer {
    /// Builds the server for `kind`, bound to `configuration`'s address.
    static func make(
        kind: GRPCServerTransportKind,
        configuration: GRPCServerConfiguration,
        services: [any RegistrableRPCService],
        interceptors: [any ServerInterceptor]
    ) -> ErasedGRPCServer {
        switch kind {
        case .grpcNIO:
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: configuration.host, port: configuration.port),
                transportSecurity: .plaintext,
                config: .defaults { config in
                    config.rpc.maxRequestPayloadSize = configuration.maxMessageBytes
                }
            )
            let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
            return ErasedGRPCServer(
                serve: { try await server.serve() },
                beginGracefulShutdown: { server.beginGracefulShutdown() },
                listeningAddress: {
                    let address = try await transport.listeningAddress
                    return ListeningAddress(
                        host: address.ipv4?.host ?? address.ipv6?.host ?? "\(address)",
                        port: address.ipv4?.port ?? address.ipv6?.port ?? 0
                    )
                }
            )

        case .switchyard:
            let transport = SwitchyardHTTP2ServerTransport(
                configuration: .init(
                    host: configuration.host,
                    port: configuration.port,
                    maxRequestMessageBytes: configuration.maxMessageBytes
                )
            )
            let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
            return ErasedGRPCServer(
                serve: { try await server.serve() },
                beginGracefulShutdown: { server.beginGracefulShutdown() },
                listeningAddress: {
                    let address = try await transport.listeningAddress
                    return ListeningAddress(host: address.ipAddress ?? configuration.host, port: address.port ?? 0)
                }
            )
        }
    }
}
