import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

/// Frame-level checks with a bare HTTP/2 client.
@Suite("SwitchyardHTTP2ServerTransport: wire protocol")
struct WireProtocolTests {
    typealias Raw = RawHTTP2Connection

    @Test("Two messages split across DATA frames in any way arrive whole", arguments: [1, 2, 3, 5, 7, 22])
    func messagesSplitAcrossFrames(chunkSize: Int) async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                let bytes = Raw.lengthPrefixed(Array("hello".utf8)) + Raw.lengthPrefixed(Array("world!".utf8))
                var frames = [Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Collect"))]
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + chunkSize, bytes.count)
                    frames.append(Raw.data(stream, Array(bytes[offset..<end]), endStream: end == bytes.count))
                    offset = end
                }
                try await connection.send(frames)
                let response = try await connection.response(on: stream)
                #expect(response.headerBlocks.first?.first(name: ":status") == "200")
                #expect(response.headerBlocks.first?.first(name: "content-type") == "application/grpc")
                #expect(response.headerBlocks.first?.first(name: "x-count") == "2")
                #expect(response.body == Raw.lengthPrefixed(Array("helloworld!".utf8)))
                #expect(response.grpcStatus == "0")
            }
        }
    }

    @Test("A content type that is not gRPC gets HTTP 415")
    func wrongContentType() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Unary", contentType: "application/json"), endStream: true))
                let response = try await connection.response(on: stream)
                #expect(response.headerBlocks.first?.first(name: ":status") == "415")
            }
        }
    }

    @Test("A method other than POST gets HTTP 405")
    func wrongMethod() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Unary", method: "GET"), endStream: true))
                let response = try await connection.response(on: stream)
                #expect(response.headerBlocks.first?.first(name: ":status") == "405")
            }
        }
    }

    @Test("A grpc-encoding other than identity is UNIMPLEMENTED and advertises identity")
    func unsupportedEncoding() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(
                    Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Unary", extra: [("grpc-encoding", "gzip")])),
                    Raw.data(stream, Raw.lengthPrefixed([1]), endStream: true)
                )
                let response = try await connection.response(on: stream)
                let trailers = try #require(response.headerBlocks.last)
                #expect(trailers.first(name: ":status") == "200")
                #expect(trailers.first(name: "grpc-status") == "12")
                #expect(trailers.first(name: "grpc-accept-encoding") == "identity")
            }
        }
    }

    @Test("A path that is not /service/method is UNIMPLEMENTED")
    func malformedPath() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(Raw.headers(stream, Raw.requestHeaders(path: "/nonsense"), endStream: true))
                #expect(try await connection.response(on: stream).grpcStatus == "12")
            }
        }
    }

    @Test(
        "A malformed request header block resets that stream only",
        arguments: [("connection", "close"), ("te", "gzip"), ("X-Upper", "case"), (":unknown", "pseudo")]
    )
    func malformedHeaders(name: String, value: String) async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let bad = connection.newStreamID()
                try await connection.send(Raw.headers(bad, Raw.requestHeaders(path: "/test.Echo/Unary", extra: [(name, value)]), endStream: true))
                #expect(try await connection.response(on: bad).resetCode == .protocolError)

                let good = connection.newStreamID()
                try await connection.send(
                    Raw.headers(good, Raw.requestHeaders(path: "/test.Echo/Unary")),
                    Raw.data(good, Raw.lengthPrefixed([5]), endStream: true)
                )
                let response = try await connection.response(on: good)
                #expect(response.grpcStatus == "0")
                #expect(response.body == Raw.lengthPrefixed([5]))
            }
        }
    }

    @Test("A compressed message without negotiated compression is INTERNAL")
    func compressedFlag() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(
                    Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Unary")),
                    Raw.data(stream, Raw.lengthPrefixed([1, 2, 3], compressed: true), endStream: true)
                )
                #expect(try await connection.response(on: stream).grpcStatus == "13")
            }
        }
    }

    @Test("A request ending in the middle of a message is INTERNAL")
    func truncatedMessage() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                try await connection.send(
                    Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Unary")),
                    Raw.data(stream, Array(Raw.lengthPrefixed([1, 2, 3]).prefix(6)), endStream: true)
                )
                #expect(try await connection.response(on: stream).grpcStatus == "13")
            }
        }
    }

    @Test("RESOURCE_EXHAUSTED is decided from the length prefix, before the message arrives")
    func sizeDecidedFromPrefix() async throws {
        let configuration = SwitchyardHTTP2ServerTransport.Configuration(port: 0, maxRequestMessageBytes: 1024)
        try await withTransportServer(configuration: configuration, services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                // Only the prefix of a 10 MB message, and the request stays open.
                try await connection.send(
                    Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Size")),
                    Raw.data(stream, [0, 0, 0x98, 0x96, 0x80])
                )
                let response = try await connection.response(on: stream)
                #expect(response.grpcStatus == "8")
                #expect(response.headerBlocks.last?.first(name: "grpc-message")?.contains("exceeds") == true)

                // The stream is told to stop; the connection carries on.
                let next = connection.newStreamID()
                try await connection.send(
                    Raw.headers(next, Raw.requestHeaders(path: "/test.Echo/Unary")),
                    Raw.data(next, Raw.lengthPrefixed([4, 2]), endStream: true)
                )
                let second = try await connection.response(on: next)
                #expect(second.grpcStatus == "0")
                #expect(second.body == Raw.lengthPrefixed([4, 2]))
            }
        }
    }

    @Test("Binary metadata may come unpadded; grpc-timeout and every other header reach the handler")
    func requestMetadata() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                // "AAEC" is [0, 1, 2]; "AAE" is the unpadded base64 of [0, 1].
                try await connection.send(
                    Raw.headers(
                        stream,
                        Raw.requestHeaders(
                            path: "/test.Echo/Unary",
                            extra: [("x-request", "abc"), ("x-a-bin", "AAE"), ("grpc-timeout", "5S")]
                        )
                    ),
                    Raw.data(stream, Raw.lengthPrefixed([]), endStream: true)
                )
                let response = try await connection.response(on: stream)
                let headers = try #require(response.headerBlocks.first)
                #expect(headers.first(name: "x-echo") == "abc")
                #expect(headers.first(name: "x-a-bin") == "AAE")
                #expect(response.grpcStatus == "0")
            }
        }
    }

    @Test("A grpc-timeout the client never enforces itself: the server answers DEADLINE_EXCEEDED, not the handler's own status")
    func serverSideDeadline() async throws {
        let probe = HandlerProbe()
        try await withTransportServer(services: [EchoService(probe: probe)]) { server in
            try await Raw.with(port: server.port) { connection in
                let stream = connection.newStreamID()
                // This bare client has no timer of its own, so only the server's deadline can end
                // the call. Hang answers CANCELLED once cancelled; that must not be what is sent.
                try await connection.send(
                    Raw.headers(stream, Raw.requestHeaders(path: "/test.Echo/Hang", extra: [("x-name", "raw"), ("grpc-timeout", "200m")])),
                    Raw.data(stream, Raw.lengthPrefixed([]), endStream: true)
                )
                let response = try await connection.response(on: stream)
                #expect(response.grpcStatus == String(Status.Code.deadlineExceeded.rawValue))
                try await eventually("the handler to see the cancellation") { probe.cancelledCalls.contains("raw") }
            }
        }
    }

    @Test("PINGs are answered, and SETTINGS advertise the stream limit and window")
    func pingAndSettings() async throws {
        try await withTransportServer(services: [EchoService()]) { server in
            try await Raw.with(port: server.port) { connection in
                let data = HTTP2PingData(withInteger: 0x0102_0304_0506_0708)
                try await connection.send(HTTP2Frame(streamID: .rootStream, payload: .ping(data, ack: false)))
                var settings: HTTP2Settings?
                var pingAck = false
                while settings == nil || !pingAck, let frame = try await connection.nextFrame(includeHousekeeping: true) {
                    switch frame.payload {
                    case .settings(.settings(let values)): settings = values
                    case .ping(let received, ack: true): pingAck = received == data
                    default: break
                    }
                }
                #expect(pingAck)
                let values = try #require(settings)
                #expect(values.contains(HTTP2Setting(parameter: .maxConcurrentStreams, value: 1024)))
                #expect(values.contains(HTTP2Setting(parameter: .initialWindowSize, value: 256 * 1024)))
            }
        }
    }
}
