import GRPCCore
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

@Suite("SwitchyardHTTP2ServerTransport: bad connections and graceful shutdown")
struct ConnectionRobustnessTests {
    @Test("Random bytes and a half-sent preface close only their own connection")
    func garbageClosesOnlyThatConnection() async throws {
        var configuration = SwitchyardHTTP2ServerTransport.Configuration(port: 0)
        configuration.handshakeTimeout = .milliseconds(500)
        try await withTransportServer(configuration: configuration, services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let before = try await client.rawCall("Unary", [1]).message
                #expect(before == [1])

                // A long-running stream on the good connection, open across all of it.
                let (requests, continuation) = AsyncStream<[UInt8]>.makeStream()
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        for await message in requests { try await writer.write(message) }
                    },
                    descriptor: EchoService.method("Chat"),
                    serializer: RawSerializer(),
                    deserializer: RawDeserializer(),
                    options: .defaults
                ) { response in
                    var messages = response.messages.makeAsyncIterator()
                    continuation.yield([1])
                    #expect(try await messages.next() == [1])

                    var generator = SystemRandomNumberGenerator()
                    let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let afterGarbage = try await RawTCPConnection.send(garbage, toPort: server.port)
                    #expect(afterGarbage != .stillOpen)

                    let halfPreface = Array("PRI * HTTP/2.0\r\n".utf8)
                    let afterHalfPreface = try await RawTCPConnection.send(halfPreface, toPort: server.port, timeout: .seconds(10))
                    #expect(afterHalfPreface != .stillOpen)

                    // A valid preface followed by nonsense frames is a protocol error too.
                    let prefaceThenJunk = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 4, 0xFF, 0xFF, 0, 0, 0, 9, 1, 2, 3, 4]
                    let afterJunk = try await RawTCPConnection.send(prefaceThenJunk, toPort: server.port)
                    #expect(afterJunk != .stillOpen)

                    continuation.yield([2])
                    #expect(try await messages.next() == [2])
                    continuation.finish()
                    #expect(try await messages.next() == nil)
                }
                let after = try await client.rawCall("Unary", [3]).message
                #expect(after == [3])
            }
        }
    }

    @Test("Graceful shutdown: the call in flight completes, new calls are refused, listen returns")
    func gracefulShutdown() async throws {
        let probe = HandlerProbe()
        let gate = Latch()
        try await withTransportServer(services: [EchoService(probe: probe, gate: gate)]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                try await withThrowingTaskGroup(of: [UInt8].self) { group in
                    group.addTask { try await client.rawCall("Block", [9]).message }
                    do {
                        try await eventually("the call to reach its handler", timeout: .seconds(10)) { probe.startedCalls.contains("block") }

                        server.transport.beginGracefulShutdown()

                        // New connections are refused once the listener is closed.
                        try await eventually("new calls to be refused", timeout: .seconds(10)) {
                            let error = await rpcError {
                                try await withLoopbackGRPCClient(port: server.port) { fresh in
                                    _ = try await fresh.rawCall("Unary", [1], timeout: .seconds(2)).message
                                }
                            }
                            return error != nil
                        }
                        #expect(!server.hasStopped)
                    } catch {
                        // Let the blocked call finish, or the task group would wait for it forever.
                        gate.open()
                        throw error
                    }

                    gate.open()
                    #expect(try await group.next() == [9])
                }
                try await eventually("listen to return", timeout: .seconds(10)) { server.hasStopped }
            }
        }
    }
}
