import GRPCCore
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

@Suite("SwitchyardHTTP2ServerTransport: sizes, flow control, deadlines, cancellation")
struct LimitsAndCancellationTests {
    @Test("A 3 MiB request crosses hundreds of DATA frames and many window updates")
    func largeRequest() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let size = 3 * 1024 * 1024
                let reply = try await client.rawCall("Size", [UInt8](repeating: 42, count: size)).message
                #expect(String(decoding: reply, as: UTF8.self) == String(size))
            }
        }
    }

    @Test("A 2 MiB response comes back whole (outbound flow control)")
    func largeResponse() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let payload = (0..<(2 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 * 31) }
                let echoed = try await client.rawCall("Unary", payload).message
                #expect(echoed == payload)
            }
        }
    }

    @Test("A request over the maximum is RESOURCE_EXHAUSTED, and the next call works")
    func oversizedRequest() async throws {
        var configuration = SwitchyardHTTP2ServerTransport.Configuration(port: 0, maxRequestMessageBytes: 64 * 1024)
        configuration.streamWindowBytes = 65_535
        try await withTransportServer(configuration: configuration, services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let error = await rpcError { _ = try await client.rawCall("Size", [UInt8](repeating: 1, count: 100 * 1024)).message }
                #expect(error?.code == .resourceExhausted)
                let atLimit = try await client.rawCall("Size", [UInt8](repeating: 1, count: 64 * 1024)).message
                #expect(String(decoding: atLimit, as: UTF8.self) == String(64 * 1024))
            }
        }
    }

    @Test("A deadline that expires in the handler: DEADLINE_EXCEEDED, and the handler is cancelled")
    func deadlineExpires() async throws {
        let probe = HandlerProbe()
        try await withTransportServer(services: [EchoService(probe: probe)]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                // Connect first, so the deadline runs out in the handler and not while connecting.
                _ = try await client.rawCall("Unary", [0]).message
                let error = await rpcError {
                    _ = try await client.rawCall("Hang", metadata: ["x-name": "deadline"], timeout: .milliseconds(500)).message
                }
                #expect(error?.code == .deadlineExceeded)
                #expect(probe.startedCalls.contains("deadline"))
                try await eventually("the handler to see the cancellation", timeout: .seconds(10)) {
                    probe.cancelledCalls.contains("deadline")
                }
            }
        }
    }

    @Test("A client that cancels its call cancels the handler (RST_STREAM reaches it)")
    func clientCancellation() async throws {
        let probe = HandlerProbe()
        try await withTransportServer(services: [EchoService(probe: probe)]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try? await client.rawCall("Hang", metadata: ["x-name": "cancel"], timeout: .seconds(60)).message
                    }
                    try? await eventually("the handler to start", timeout: .seconds(10)) { probe.startedCalls.contains("cancel") }
                    group.cancelAll()
                }
                try await eventually("the handler to see the cancellation", timeout: .seconds(10)) {
                    probe.cancelledCalls.contains("cancel")
                }
                // The connection is unaffected.
                let afterCancel = try await client.rawCall("Unary", [1]).message
                #expect(afterCancel == [1])
            }
        }
    }

    @Test("A connection lost mid-call cancels the handler; the server serves on")
    func connectionLoss() async throws {
        let probe = HandlerProbe()
        try await withTransportServer(services: [EchoService(probe: probe)]) { server in
            try await RawHTTP2Connection.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(
                    RawHTTP2Connection.headers(stream, RawHTTP2Connection.requestHeaders(path: "/test.Echo/Hang", extra: [("x-name", "lost")])),
                    RawHTTP2Connection.data(stream, RawHTTP2Connection.lengthPrefixed([]), endStream: true)
                )
                try await eventually("the handler to start", timeout: .seconds(10)) { probe.startedCalls.contains("lost") }
            }
            // Leaving `with` closed the socket without RST_STREAM or GOAWAY.
            try await eventually("the handler to see the cancellation", timeout: .seconds(10)) {
                probe.cancelledCalls.contains("lost")
            }
            try await withLoopbackGRPCClient(port: server.port) { client in
                let answer = try await client.rawCall("Unary", [8]).message
                #expect(answer == [8])
            }
        }
    }
}
