import GRPCCore
import NIOCore
import NIOPosix
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `SwitchyardHTTP2ClientTransport` when things go wrong or end: deadlines, cancellation,
/// unreachable and vanishing servers, GOAWAY, restarts, moving addresses, shutdown.
// Serialized, as the call-shape suite: timing-sensitive cases run one at a time.
@Suite("SwitchyardHTTP2ClientTransport: deadlines, cancellation, failures, reconnects, shutdown", .serialized)
struct ClientRobustnessTests {
    @Test("An unreachable server fails calls fast with UNAVAILABLE; with waitForReady they wait out their deadline")
    func unreachableServer() async throws {
        // A bound socket that never listens: connecting to it is refused, and no other test's
        // server can take the port while it is held.
        let socket = try BoundSocket()
        defer { socket.close() }
        try await withSwitchyardClient(port: socket.port) { client in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await rpcError { _ = try await client.rawCall("Unary", [1], options: .timeout(.seconds(60), waitForReady: false)).message }
            #expect(error?.code == .unavailable)
            // Fast means a refused connect, not the call's minute (slack for a loaded machine).
            #expect(clock.now - start < .seconds(20))

            // Later calls (during the backoff) fail at once too.
            let again = await rpcError { _ = try await client.rawCall("Unary", [1], options: .timeout(.seconds(30), waitForReady: false)).message }
            #expect(again?.code == .unavailable)

            let waiting = await rpcError { _ = try await client.rawCall("Unary", [1], options: .timeout(.milliseconds(300), waitForReady: true)).message }
            #expect(waiting?.code == .deadlineExceeded)
        }
    }

    @Test("The timeout travels as grpc-timeout; a call past it is DEADLINE_EXCEEDED and its handler is cancelled", arguments: PeerServerKind.allCases)
    func deadline(server kind: PeerServerKind) async throws {
        let probe = HandlerProbe()
        try await withPeerServer(kind, services: [EchoService(probe: probe)]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let header = String(decoding: try await client.rawCall("Timeout", options: .timeout(.seconds(30))).message, as: UTF8.self)
                let timeout = try #require(GRPCTimeout.parse(header), "grpc-timeout: '\(header)'")
                #expect(timeout <= .seconds(30) && timeout > .seconds(20))

                let clock = ContinuousClock()
                let start = clock.now
                let error = await rpcError {
                    _ = try await client.rawCall("Hang", metadata: ["x-name": "deadline"], options: .timeout(.milliseconds(300))).message
                }
                #expect(error?.code == .deadlineExceeded)
                #expect(clock.now - start < .seconds(20))
                try await eventually("the handler to see the cancellation", timeout: .seconds(10)) {
                    probe.cancelledCalls.contains("deadline")
                }
                #expect(try await client.rawCall("Unary", [2], options: .timeout(.seconds(20))).message == [2])
            }
        }
    }

    @Test("Cancelling the caller's task ends the call as CANCELLED and cancels the handler; the connection serves on", arguments: PeerServerKind.allCases)
    func cancellation(server kind: PeerServerKind) async throws {
        let probe = HandlerProbe()
        try await withPeerServer(kind, services: [EchoService(probe: probe)]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let error = await withTaskGroup(of: RPCError?.self) { group in
                    group.addTask {
                        await rpcError {
                            _ = try await client.rawCall("Hang", metadata: ["x-name": "cancel"], options: .timeout(.seconds(60))).message
                        }
                    }
                    try? await eventually("the handler to start", timeout: .seconds(10)) { probe.startedCalls.contains("cancel") }
                    group.cancelAll()
                    return await group.next() ?? nil
                }
                #expect(error?.code == .cancelled)
                try await eventually("the handler to see the cancellation", timeout: .seconds(10)) {
                    probe.cancelledCalls.contains("cancel")
                }
                #expect(try await client.rawCall("Unary", [1], options: .timeout(.seconds(20))).message == [1])
            }
        }
    }

    @Test("A connection lost mid-call fails the call with UNAVAILABLE; the next calls reconnect", arguments: PeerServerKind.allCases)
    func connectionLostMidCall(server kind: PeerServerKind) async throws {
        let probe = HandlerProbe()
        try await withPeerServer(kind, services: [EchoService(probe: probe)]) { server in
            let proxy = try await TCPProxy.start(upstreamPort: server.port)
            try await withSwitchyardClient(port: proxy.port) { client in
                #expect(try await client.rawCall("Unary", [1], options: .timeout(.seconds(20))).message == [1])
                let error = await withTaskGroup(of: RPCError?.self) { group in
                    group.addTask {
                        await rpcError {
                            _ = try await client.rawCall("Hang", metadata: ["x-name": "lost"], options: .timeout(.seconds(60))).message
                        }
                    }
                    try? await eventually("the handler to start", timeout: .seconds(10)) { probe.startedCalls.contains("lost") }
                    proxy.cutAll()
                    return await group.next() ?? nil
                }
                #expect(error?.code == .unavailable)
                // The transport reconnects at once; calls made while it does may fail fast.
                let answer = try await eventually("a call on a new connection", timeout: .seconds(10)) {
                    try? await client.rawCall("Unary", [2], options: .timeout(.seconds(20))).message
                }
                #expect(answer == [2])
            }
            await proxy.close()
            try await eventually("the server to see the lost call cancelled", timeout: .seconds(10)) {
                probe.cancelledCalls.contains("lost")
            }
        }
    }

    @Test("A server shutting down (GOAWAY) lets the call in flight finish; calls after it fail fast; a restarted server is found again", arguments: PeerServerKind.allCases)
    func goAwayAndRestart(server kind: PeerServerKind) async throws {
        let port = try await unusedPort()
        let probe = HandlerProbe()
        let gate = Latch()
        try await withSwitchyardClient(port: port) { client in
            try await withPeerServer(kind, port: port, services: [EchoService(probe: probe, gate: gate)]) { server in
                // `Block` ignores cancellation: a body that fails before opening the gate must
                // still let the server shut down.
                defer { gate.open() }
                let reply = try await eventually("the first connection", timeout: .seconds(10)) {
                    try? await client.rawCall("Unary", [1], options: .timeout(.seconds(20))).message
                }
                #expect(reply == [1])
                try await withThrowingTaskGroup(of: [UInt8].self) { group in
                    group.addTask {
                        try await client.rawCall("Block", [7], options: .timeout(.seconds(30))).message
                    }
                    try await eventually("the blocked call to reach its handler", timeout: .seconds(10)) { probe.startedCalls.contains("block") }
                    server.beginGracefulShutdown()
                    // GOAWAY is out; the call in flight still completes.
                    gate.open()
                    #expect(try await group.next() == [7])
                }
            }
            // The server is gone: no hanging, UNAVAILABLE.
            let error = await rpcError { _ = try await client.rawCall("Unary", [2], options: .timeout(.seconds(30), waitForReady: false)).message }
            #expect(error?.code == .unavailable)

            try await withPeerServer(kind, port: port, services: [EchoService()]) { _ in
                let answer = try await eventually("a call to the restarted server", timeout: .seconds(15)) {
                    try? await client.rawCall("Unary", [3], options: .timeout(.seconds(20))).message
                }
                #expect(answer == [3])
            }
        }
    }

    @Test("beginGracefulShutdown: the call in flight finishes, new calls are refused, runConnections returns", arguments: PeerServerKind.allCases)
    func clientGracefulShutdown(server kind: PeerServerKind) async throws {
        let probe = HandlerProbe()
        let gate = Latch()
        try await withPeerServer(kind, services: [EchoService(probe: probe, gate: gate)]) { server in
            // As above: the server's shutdown must not wait on a gate a failed body left shut.
            defer { gate.open() }
            let transport = SwitchyardHTTP2ClientTransport(target: .host("127.0.0.1", port: server.port))
            let client = GRPCClient(transport: transport)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.runConnections() }
                async let inFlight = client.rawCall("Block", [5], options: .timeout(.seconds(30))).message
                try await eventually("the call to reach its handler", timeout: .seconds(10)) { probe.startedCalls.contains("block") }
                client.beginGracefulShutdown()
                await #expect(throws: (any Error).self) {
                    _ = try await client.rawCall("Unary", [1], options: .timeout(.seconds(20))).message
                }
                gate.open()
                #expect(try await inFlight == [5])
                // runConnections returns once the connection has closed.
                try await group.waitForAll()
            }
        }
    }

    @Test("Target.addresses: a call waits for the first address, and the transport follows a move to another server")
    func followsAddresses() async throws {
        let probeA = HandlerProbe()
        let probeB = HandlerProbe()
        let open = Latch()
        open.open()
        try await withPeerServer(.switchyard, services: [EchoService(probe: probeA, gate: open)]) { serverA in
            try await withPeerServer(.grpcNIO, services: [EchoService(probe: probeB, gate: open)]) { serverB in
                let (addresses, publish) = AsyncStream<SwitchyardHTTP2ClientTransport.Address>.makeStream()
                try await withSwitchyardClient(target: .addresses(addresses)) { client in
                    try await withThrowingTaskGroup(of: [UInt8].self) { group in
                        // Before any address: the call waits (nothing has failed yet) instead of failing.
                        group.addTask {
                            try await client.rawCall("Block", [1], options: .timeout(.seconds(20), waitForReady: false)).message
                        }
                        publish.yield(.init(host: "127.0.0.1", port: serverA.port))
                        let first = try await group.next()
                        #expect(first == [1])
                    }
                    #expect(probeA.startedCalls.count == 1)

                    publish.yield(.init(host: "127.0.0.1", port: serverB.port))
                    try await eventually("calls to reach the new address", timeout: .seconds(10)) {
                        _ = try? await client.rawCall("Block", [2], options: .timeout(.seconds(20))).message
                        return !probeB.startedCalls.isEmpty
                    }
                    publish.finish()
                }
            }
        }
    }

    @Test("A response larger than the configured maximum is RESOURCE_EXHAUSTED; the connection serves on", arguments: PeerServerKind.allCases)
    func configuredResponseLimit(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            var configuration = SwitchyardHTTP2ClientTransport.Configuration()
            configuration.maxResponseMessageBytes = 1024
            try await withSwitchyardClient(port: server.port, configuration: configuration) { client in
                let error = await rpcError { _ = try await client.rawCall("Unary", [UInt8](repeating: 9, count: 2048), options: .timeout(.seconds(20))).message }
                #expect(error?.code == .resourceExhausted)
                let atLimit = try await client.rawCall("Unary", [UInt8](repeating: 9, count: 1024), options: .timeout(.seconds(20))).message
                #expect(atLimit.count == 1024)
            }
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, read back and released).
func unusedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// A TCP socket bound to 127.0.0.1 (port 0) that does not listen: connections to its port are
/// refused for as long as it is held.
struct BoundSocket {
    struct Failure: Error {}

    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            _ = Glibc.close(descriptor)
            throw Failure()
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
