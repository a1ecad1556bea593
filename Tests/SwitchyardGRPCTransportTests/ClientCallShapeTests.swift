import GRPCCore
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

/// `SwitchyardHTTP2ClientTransport` against the project's server transport and grpc-swift's:
/// every call shape, metadata both ways, statuses, sizes, many calls on one connection.
// Serialized: several cases are CPU-heavy in debug builds, and the whole package suite runs
// in parallel on two cores; one at a time they leave room for tests with tight deadlines.
@Suite("SwitchyardHTTP2ClientTransport: call shapes", .serialized)
struct ClientCallShapeTests {
    @Test("Unary call with request, response and trailing metadata (string and binary)", arguments: PeerServerKind.allCases)
    func unaryWithMetadata(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                var metadata: Metadata = ["x-request": "hello there"]
                metadata.addBinary([0, 1, 2, 250, 255], forKey: "x-blob-bin")
                let response = try await client.rawCall("Unary", Array("ping".utf8), metadata: metadata)
                #expect(try response.message == Array("ping".utf8))
                #expect(Array(response.metadata[stringValues: "x-echo"]) == ["hello there"])
                #expect(Array(response.metadata[binaryValues: "x-blob-bin"]) == [[0, 1, 2, 250, 255]])
                #expect(Array(response.trailingMetadata[stringValues: "x-trailer"]) == ["done"])
            }
        }
    }

    @Test("Empty request and response messages", arguments: PeerServerKind.allCases)
    func emptyMessages(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let echoed = try await client.rawCall("Unary", []).message
                #expect(echoed == [])
            }
        }
    }

    @Test("Client streaming: 100 messages arrive in order", arguments: PeerServerKind.allCases)
    func clientStreaming(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let response = try await client.clientStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        for index in 0..<100 { try await writer.write([UInt8(index)]) }
                    },
                    descriptor: EchoService.method("Collect"),
                    serializer: RawSerializer(),
                    deserializer: RawDeserializer(),
                    options: .timeout(.seconds(30))
                ) { $0 }
                #expect(try response.message == (0..<100).map { UInt8($0) })
                #expect(Array(response.metadata[stringValues: "x-count"]) == ["100"])
            }
        }
    }

    @Test("Server streaming: 50 messages of growing size", arguments: PeerServerKind.allCases)
    func serverStreaming(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let messages = try await client.serverStreaming(
                    request: ClientRequest(message: [50]),
                    descriptor: EchoService.method("Expand"),
                    serializer: RawSerializer(),
                    deserializer: RawDeserializer(),
                    options: .timeout(.seconds(30))
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

    @Test("Bidirectional streaming in lock step: each message echoed before the next is sent", arguments: PeerServerKind.allCases)
    func bidirectionalStreaming(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let sent = (0..<20).map { [UInt8($0)] }
                let received = try await client.chat(sent)
                #expect(received == sent)
            }
        }
    }

    @Test("A handler's error reaches the caller with its percent-encoded message and trailing metadata", arguments: PeerServerKind.allCases)
    func errorStatus(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let error = await rpcError { _ = try await client.rawCall("Fail").message }
                #expect(error?.code == .failedPrecondition)
                #expect(error?.message == "naïve 100% ✓\nsecond line")
                #expect(error.map { Array($0.metadata[stringValues: "x-reason"]) } == ["test"])
            }
        }
    }

    @Test("Trailers-only errors: UNKNOWN for a non-RPC error, UNIMPLEMENTED for an unknown method; the connection serves on", arguments: PeerServerKind.allCases)
    func trailersOnlyErrors(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let crash = await rpcError { _ = try await client.rawCall("Crash").message }
                #expect(crash?.code == .unknown)
                let missing = await rpcError { _ = try await client.rawUnary(service: "test.Nope", method: "Nothing", message: []) }
                #expect(missing?.code == .unimplemented)
                let after = try await client.rawCall("Unary", [7]).message
                #expect(after == [7])
            }
        }
    }

    @Test("A 1 MiB request and a 1 MiB response cross many DATA frames and window updates", arguments: PeerServerKind.allCases)
    func largeMessages(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let payload = (0..<(1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                let echoed = try await client.rawCall("Unary", payload).message
                #expect(echoed == payload)
                let size = try await client.rawCall("Size", payload).message
                #expect(String(decoding: size, as: UTF8.self) == String(payload.count))
            }
        }
    }

    @Test("100 concurrent calls on one connection", arguments: PeerServerKind.allCases)
    func manyConcurrentCalls(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                let succeeded = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            let payload = Array("call \(index)".utf8)
                            return try await client.rawCall("Unary", payload).message == payload
                        }
                    }
                    var count = 0
                    for try await ok in group where ok { count += 1 }
                    return count
                }
                #expect(succeeded == 100)
            }
        }
    }

    @Test("A server allowing 8 concurrent streams: 100 concurrent calls queue and all complete", arguments: PeerServerKind.allCases)
    func maxConcurrentStreams(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, maxConcurrentStreams: 8, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                // Connect first, so every call sees the server's SETTINGS.
                _ = try await client.rawCall("Unary", [0]).message
                let succeeded = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            let payload = [UInt8](repeating: UInt8(index % 256), count: 1000)
                            return try await client.rawCall("Unary", payload).message == payload
                        }
                    }
                    var count = 0
                    for try await ok in group where ok { count += 1 }
                    return count
                }
                #expect(succeeded == 100)
            }
        }
    }

    @Test("Request and response size limits from the call options are RESOURCE_EXHAUSTED", arguments: PeerServerKind.allCases)
    func sizeLimits(server kind: PeerServerKind) async throws {
        try await withPeerServer(kind, services: [EchoService()]) { server in
            try await withSwitchyardClient(port: server.port) { client in
                var options = CallOptions.timeout(.seconds(20))
                options.maxRequestMessageBytes = 10
                let request = await rpcError { _ = try await client.rawCall("Unary", [UInt8](repeating: 1, count: 11), options: options).message }
                #expect(request?.code == .resourceExhausted)

                options = .timeout(.seconds(20))
                options.maxResponseMessageBytes = 10
                let response = await rpcError { _ = try await client.rawCall("Unary", [UInt8](repeating: 1, count: 11), options: options).message }
                #expect(response?.code == .resourceExhausted)

                let atLimit = try await client.rawCall("Unary", [UInt8](repeating: 1, count: 10), options: options).message
                #expect(atLimit.count == 10)
            }
        }
    }
}
