import GRPCCore
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

/// grpc-swift's own HTTP/2 client against `GRPCServer` on `SwitchyardHTTP2ServerTransport`:
/// every call shape, metadata both ways, statuses.
@Suite("SwitchyardHTTP2ServerTransport: call shapes")
struct CallShapeTests {
    @Test("Unary call with request, response and trailing metadata (string and binary)")
    func unaryWithMetadata() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                var metadata: Metadata = ["x-request": "hello there"]
                metadata.addBinary([0, 1, 2, 250, 255], forKey: "x-blob-bin")
                let response = try await client.rawCall("Unary", Array("ping".utf8), metadata: metadata)
                let echoed = try response.message
                #expect(echoed == Array("ping".utf8))
                #expect(Array(response.metadata[stringValues: "x-echo"]) == ["hello there"])
                #expect(Array(response.metadata[binaryValues: "x-blob-bin"]) == [[0, 1, 2, 250, 255]])
                #expect(Array(response.trailingMetadata[stringValues: "x-trailer"]) == ["done"])
            }
        }
    }

    @Test("An empty request message and an empty response message")
    func emptyMessages() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let empty = try await client.rawCall("Unary", []).message
                #expect(empty == [])
            }
        }
    }

    @Test("Client streaming: 100 messages arrive in order")
    func clientStreaming() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let response = try await client.clientStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        for index in 0..<100 { try await writer.write([UInt8(index)]) }
                    },
                    descriptor: EchoService.method("Collect"),
                    serializer: RawSerializer(),
                    deserializer: RawDeserializer(),
                    options: .defaults
                ) { $0 }
                let collected = try response.message
                #expect(collected == (0..<100).map { UInt8($0) })
                #expect(Array(response.metadata[stringValues: "x-count"]) == ["100"])
            }
        }
    }

    @Test("Server streaming: 50 messages of growing size")
    func serverStreaming() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let messages = try await client.serverStreaming(
                    request: ClientRequest(message: [50]),
                    descriptor: EchoService.method("Expand"),
                    serializer: RawSerializer(),
                    deserializer: RawDeserializer(),
                    options: .defaults
                ) { response in
                    var collected: [[UInt8]] = []
                    for try await message in response.messages { collected.append(message) }
                    return collected
                }
                #expect(messages.count == 50)
                #expect(messages.enumerated().allSatisfy { index, message in message == [UInt8](repeating: UInt8(index), count: index + 1) })
            }
        }
    }

    @Test("Bidirectional streaming: each message is echoed before the next is sent", arguments: ["Chat", "OffLoopChat"])
    func bidirectionalStreaming(method: String) async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let (requests, continuation) = AsyncStream<[UInt8]>.makeStream()
                let echoed = try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        for await message in requests { try await writer.write(message) }
                    },
                    descriptor: EchoService.method(method),
                    serializer: RawSerializer(),
                    deserializer: RawDeserializer(),
                    options: .defaults
                ) { response in
                    var collected: [[UInt8]] = []
                    continuation.yield([0])
                    for try await message in response.messages {
                        collected.append(message)
                        // Lock step: the next request only goes once its predecessor came back.
                        if collected.count < 20 {
                            continuation.yield([UInt8(collected.count)])
                        } else {
                            continuation.finish()
                        }
                    }
                    return collected
                }
                #expect(echoed == (0..<20).map { [UInt8($0)] })
            }
        }
    }

    @Test("A handler's RPCError reaches the client with its percent-encoded message and metadata")
    func errorStatus() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let error = await rpcError { _ = try await client.rawCall("Fail").message }
                #expect(error?.code == .failedPrecondition)
                #expect(error?.message == "naïve 100% ✓\nsecond line")
                #expect(error.map { Array($0.metadata[stringValues: "x-reason"]) } == ["test"])
            }
        }
    }

    @Test("A handler throwing a non-RPC error is UNKNOWN, and the connection serves on")
    func unknownError() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let error = await rpcError { _ = try await client.rawCall("Crash").message }
                #expect(error?.code == .unknown)
                let afterCrash = try await client.rawCall("Unary", [7]).message
                #expect(afterCrash == [7])
            }
        }
    }

    @Test("A method no service registered is UNIMPLEMENTED")
    func unimplemented() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let error = await rpcError { _ = try await client.rawUnary(service: "test.Nope", method: "Nothing", message: []) }
                #expect(error?.code == .unimplemented)
            }
        }
    }

    @Test("Hundreds of concurrent calls on one connection all succeed")
    func manyConcurrentCalls() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await withLoopbackGRPCClient(port: server.port) { client in
                let count = 500
                let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<count {
                        group.addTask {
                            let payload = Array("call \(index)".utf8)
                            return try await client.rawCall("Unary", payload).message == payload
                        }
                    }
                    var ok = 0
                    for try await result in group where result { ok += 1 }
                    return ok
                }
                #expect(results == count)
            }
        }
    }
}
