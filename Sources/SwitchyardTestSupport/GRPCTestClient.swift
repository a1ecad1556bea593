package import GRPCCore
package import GRPCNIOTransportHTTP2

/// Runs `body` with a plaintext gRPC client connected to 127.0.0.1:`port`.
package func withLoopbackGRPCClient<Result: Sendable>(
    port: Int,
    body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
    return try await withGRPCClient(transport: transport) { client in
        try await body(client)
    }
}
