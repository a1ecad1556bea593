import GRPCCore
import NIOCore
import NIOHTTP2
import NIOPosix
import SwitchyardGRPCTransport
import Testing

/// A timeout handed to the transport (`TransportCallTimeout`) instead of `CallOptions.timeout`:
/// grpc-swift's executor then runs no deadline timer of its own, so the transport alone must
/// send it and enforce it.
@Suite("SwitchyardHTTP2ClientTransport: timeouts given to the transport", .serialized, .timeLimit(.minutes(1)))
struct TransportCallTimeoutTests {
    @Test("The timeout travels as grpc-timeout, with no CallOptions timeout")
    func travels() async throws {
        let probe = HandlerProbe()
        try await withPeerServer(.switchyard, services: [EchoService(probe: probe)]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let message = try await TransportCallTimeout.$current.withValue(.seconds(30)) {
                    try await client.rawCall("Timeout", options: .defaults).message
                }
                let header = String(decoding: message, as: UTF8.self)
                let timeout = try #require(GRPCTimeout.parse(header), "grpc-timeout: '\(header)'")
                #expect(timeout <= .seconds(30) && timeout > .seconds(20))
            }
        }
    }

    @Test("A server that never answers: the transport itself ends the call at its timeout with DEADLINE_EXCEEDED")
    func enforcedWithoutServerHelp() async throws {
        // An HTTP/2 peer that completes the handshake and then ignores every stream, as a hung
        // process would: no status, no reset, no deadline of its own. Only the client can end
        // the call.
        let silent = try await SilentHTTP2Server.start()
        defer { silent.close() }
        try await withSwitchyardClient(port: silent.port) { client in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await rpcError {
                try await TransportCallTimeout.$current.withValue(.milliseconds(300)) {
                    _ = try await client.rawCall("Unary", [1], options: .defaults).message
                }
            }
            #expect(error?.code == .deadlineExceeded)
            let elapsed = clock.now - start
            #expect(elapsed >= .milliseconds(300))
            // Slack for a loaded machine; without enforcement the call would never end.
            #expect(elapsed < .seconds(20))
        }
    }
}

/// An HTTP/2 server on 127.0.0.1 that answers the connection preface and settings, and
/// nothing else.
final class SilentHTTP2Server: Sendable {
    let port: Int
    private let listener: any Channel

    private init(listener: any Channel) {
        self.listener = listener
        self.port = listener.localAddress?.port ?? 0
    }

    static func start() async throws -> SilentHTTP2Server {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Frames reach the pipeline's end and are dropped there.
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return SilentHTTP2Server(listener: listener)
    }

    func close() {
        listener.close(promise: nil)
    }
}
