import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

/// The servers the client transport is tested against: the project's own server transport and
/// grpc-swift's, an independent HTTP/2 implementation.
enum PeerServerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case switchyard
    case grpcNIO = "grpc-nio"

    var testDescription: String { "\(rawValue) server" }
}

/// A `GRPCServer` under test, on 127.0.0.1.
struct PeerServer: Sendable {
    let port: Int
    let beginGracefulShutdown: @Sendable () -> Void
}

/// Serves `services` on a `kind` server at 127.0.0.1:`port` (0 picks one) for the duration of
/// `body`, then shuts it down gracefully and waits for it to stop.
func withPeerServer<Result: Sendable>(
    _ kind: PeerServerKind,
    port: Int = 0,
    maxConcurrentStreams: Int? = nil,
    services: [any RegistrableRPCService],
    body: (PeerServer) async throws -> Result
) async throws -> Result {
    switch kind {
    case .switchyard:
        var configuration = SwitchyardHTTP2ServerTransport.Configuration(port: port)
        if let maxConcurrentStreams { configuration.maxConcurrentStreams = maxConcurrentStreams }
        let transport = SwitchyardHTTP2ServerTransport(configuration: configuration)
        let server = GRPCServer(transport: transport, services: services)
        return try await serve(server, port: { try await transport.listeningAddress.port ?? 0 }, body: body)
    case .grpcNIO:
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: port),
            transportSecurity: .plaintext,
            config: .defaults { config in
                if let maxConcurrentStreams { config.http2.maxConcurrentStreams = maxConcurrentStreams }
            }
        )
        let server = GRPCServer(transport: transport, services: services)
        return try await serve(server, port: { try await transport.listeningAddress.ipv4?.port ?? 0 }, body: body)
    }
}

private func serve<Transport: ServerTransport, Result: Sendable>(
    _ server: GRPCServer<Transport>,
    port: @escaping @Sendable () async throws -> Int,
    body: (PeerServer) async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        do {
            let peer = PeerServer(port: try await port(), beginGracefulShutdown: { server.beginGracefulShutdown() })
            let result = try await body(peer)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
    }
}

/// Runs `body` with a client on `SwitchyardHTTP2ClientTransport` to 127.0.0.1:`port`.
func withSwitchyardClient<Result: Sendable>(
    port: Int,
    configuration: SwitchyardHTTP2ClientTransport.Configuration = .init(),
    body: (GRPCClient<SwitchyardHTTP2ClientTransport>) async throws -> Result
) async throws -> Result {
    try await withSwitchyardClient(target: .host("127.0.0.1", port: port), configuration: configuration, body: body)
}

/// Runs `body` with a client on `SwitchyardHTTP2ClientTransport` to `target`.
func withSwitchyardClient<Result: Sendable>(
    target: SwitchyardHTTP2ClientTransport.Target,
    configuration: SwitchyardHTTP2ClientTransport.Configuration = .init(),
    body: (GRPCClient<SwitchyardHTTP2ClientTransport>) async throws -> Result
) async throws -> Result {
    let transport = SwitchyardHTTP2ClientTransport(target: target, configuration: configuration)
    return try await withGRPCClient(transport: transport) { client in
        try await body(client)
    }
}

extension CallOptions {
    /// A timeout, and whether to wait for a connection.
    static func timeout(_ timeout: Duration, waitForReady: Bool? = nil) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = waitForReady
        return options
    }
}

extension GRPCClient {
    /// A unary raw-bytes call with explicit options, returning the whole response.
    func rawCall(
        _ method: String,
        _ message: [UInt8] = [],
        metadata: Metadata = [:],
        options: CallOptions
    ) async throws -> ClientResponse<[UInt8]> {
        try await unary(
            request: ClientRequest(message: message, metadata: metadata),
            descriptor: EchoService.method(method),
            serializer: RawSerializer(),
            deserializer: RawDeserializer(),
            options: options
        ) { response in response }
    }

    /// A bidirectional `Chat` that sends `messages` one by one, each after the previous echo.
    func chat(_ messages: [[UInt8]], method: String = "Chat") async throws -> [[UInt8]] {
        let (requests, continuation) = AsyncStream<[UInt8]>.makeStream()
        return try await bidirectionalStreaming(
            request: StreamingClientRequest(of: [UInt8].self) { writer in
                for await message in requests { try await writer.write(message) }
            },
            descriptor: EchoService.method(method),
            serializer: RawSerializer(),
            deserializer: RawDeserializer(),
            options: .timeout(.seconds(30))
        ) { response in
            var collected: [[UInt8]] = []
            var remaining = messages[...]
            if let first = remaining.popFirst() { continuation.yield(first) } else { continuation.finish() }
            for try await message in response.messages {
                collected.append(message)
                // Lock step: the next request only goes once its predecessor came back.
                if let next = remaining.popFirst() { continuation.yield(next) } else { continuation.finish() }
            }
            return collected
        }
    }
}
