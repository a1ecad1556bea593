import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// An HTTP/2 client connection that sends exactly the frames a test writes and returns every
/// frame the server sends: for the wire rules no gRPC library would break on purpose (odd
/// DATA splits, wrong content types, compressed flags, oversized prefixes).
final class RawHTTP2Connection {
    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<HTTP2Frame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTP2Frame>
    private var nextStreamID = 1

    private init(channel: any Channel, inbound: NIOAsyncChannelInboundStream<HTTP2Frame>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<HTTP2Frame>) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Connects to 127.0.0.1:`port`, runs `body`, closes. The connection is closed after
    /// `timeout` whatever happens, so a read that would wait forever ends instead.
    static func with<Result>(
        port: Int,
        timeout: Duration = .seconds(20),
        _ body: (RawHTTP2Connection) async throws -> Result
    ) async throws -> Result {
        let asyncChannel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Validation off: some tests send headers a careful client never would.
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client, headerBlockValidation: .disabled))
                    return try NIOAsyncChannel<HTTP2Frame, HTTP2Frame>(wrappingChannelSynchronously: channel)
                }
            }
        let guardTimer = asyncChannel.channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            asyncChannel.channel.close(promise: nil)
        }
        defer { guardTimer.cancel() }
        return try await asyncChannel.executeThenClose { inbound, outbound in
            let connection = RawHTTP2Connection(channel: asyncChannel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(connection)
        }
    }

    /// A fresh client stream ID.
    func newStreamID() -> HTTP2StreamID {
        defer { nextStreamID += 2 }
        return HTTP2StreamID(nextStreamID)
    }

    func send(_ frames: HTTP2Frame...) async throws {
        try await outbound.write(contentsOf: frames)
    }

    func send(_ frames: [HTTP2Frame]) async throws {
        try await outbound.write(contentsOf: frames)
    }

    /// The next frame from the server, skipping connection housekeeping (SETTINGS, WINDOW_UPDATE)
    /// unless asked; `nil` once the connection closed.
    func nextFrame(includeHousekeeping: Bool = false) async throws -> HTTP2Frame? {
        while let frame = try await inbound.next() {
            switch frame.payload {
            case .settings, .windowUpdate:
                if includeHousekeeping { return frame }
            default:
                return frame
            }
        }
        return nil
    }

    /// Every frame of `streamID` until it ends (END_STREAM or RST_STREAM).
    func response(on streamID: HTTP2StreamID) async throws -> [HTTP2Frame.FramePayload] {
        var payloads: [HTTP2Frame.FramePayload] = []
        while let frame = try await nextFrame() {
            guard frame.streamID == streamID else { continue }
            payloads.append(frame.payload)
            switch frame.payload {
            case .headers(let headers) where headers.endStream:
                return payloads
            case .data(let data) where data.endStream:
                return payloads
            case .rstStream:
                return payloads
            default:
                continue
            }
        }
        return payloads
    }

    static func requestHeaders(
        path: String,
        method: String = "POST",
        contentType: String = "application/grpc",
        extra: [(String, String)] = []
    ) -> HPACKHeaders {
        var headers: HPACKHeaders = [
            ":method": method, ":scheme": "http", ":path": path, ":authority": "localhost",
            "content-type": contentType, "te": "trailers",
        ]
        for (name, value) in extra { headers.add(name: name, value: value) }
        return headers
    }

    static func headers(_ streamID: HTTP2StreamID, _ headers: HPACKHeaders, endStream: Bool = false) -> HTTP2Frame {
        HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: headers, endStream: endStream)))
    }

    static func data(_ streamID: HTTP2StreamID, _ bytes: [UInt8], endStream: Bool = false) -> HTTP2Frame {
        HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(ByteBuffer(bytes: bytes)), endStream: endStream)))
    }

    /// `message` behind a gRPC length prefix.
    static func lengthPrefixed(_ message: [UInt8], compressed: Bool = false) -> [UInt8] {
        let length = UInt32(message.count)
        return [compressed ? 1 : 0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + message
    }
}

extension [HTTP2Frame.FramePayload] {
    /// The header blocks, in order.
    var headerBlocks: [HPACKHeaders] {
        compactMap { payload in
            if case .headers(let headers) = payload { return headers.headers }
            return nil
        }
    }

    /// The DATA bytes, concatenated.
    var body: [UInt8] {
        var bytes: [UInt8] = []
        for payload in self {
            if case .data(let data) = payload, case .byteBuffer(let buffer) = data.data {
                bytes += [UInt8](buffer.readableBytesView)
            }
        }
        return bytes
    }

    /// The last header block's `grpc-status`.
    var grpcStatus: String? { headerBlocks.last?.first(name: "grpc-status") }

    var resetCode: HTTP2ErrorCode? {
        for payload in self {
            if case .rstStream(let code) = payload { return code }
        }
        return nil
    }
}
