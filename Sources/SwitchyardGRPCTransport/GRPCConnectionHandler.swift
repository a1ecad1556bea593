import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The gRPC side of one HTTP/2 connection, placed right after `NIOHTTP2Handler` (which runs
/// without a stream multiplexer).
///
/// It reads `HTTP2Frame`s for every stream and keeps a small `GRPCServerStream` per call in a
/// dictionary instead of a child channel per stream, validates request headers, splits DATA
/// into messages, does stream- and connection-level inbound flow control, turns response parts
/// into frames, coalesces flushes, enforces the handshake timeout and runs graceful shutdown
/// (GOAWAY, PING, final GOAWAY, close when drained).
final class GRPCConnectionHandler: ChannelInboundHandler, NIOHTTP2FrameDelegate {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// What every connection of one transport shares.
    struct Settings: Sendable {
        var maxRequestMessageBytes: Int
        var streamWindowBytes: Int
        var connectionWindowBytes: Int
        var handshakeTimeout: TimeAmount
        var goAwayPingTimeout: TimeAmount
        var descriptorsByPath: [String: MethodDescriptor]
    }

    private enum ShutdownState {
        case active
        /// First GOAWAY (last stream ID = max) and a PING are out; waiting for the PING's ack,
        /// after which the client has seen the GOAWAY and opens no more streams.
        case awaitingPingAck(timeout: Scheduled<Void>?)
        /// The final GOAWAY named the last stream served; close once the open ones finish.
        case draining(lastStreamID: HTTP2StreamID)
        case closing
    }

    /// Opaque data of the shutdown PING ("SWTCHYRD").
    private static let shutdownPingData = HTTP2PingData(withInteger: 0x5357_5443_4859_5244)
    /// Writes past this many bytes per stream make the writer wait until the socket took them,
    /// so a fast producer cannot buffer without bound.
    static let writeBarrierBytes = 64 * 1024

    private let settings: Settings
    private let newStreams: NewStreamQueue
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var streams: [HTTP2StreamID: GRPCServerStream] = [:]
    private var highestStreamID = HTTP2StreamID(0)

    private var isReading = false
    private var flushNeeded = false
    private var flushScheduled = false

    private var prefaceReceived = false
    private var handshakeTimer: Scheduled<Void>?
    private var deadlineSweep: Scheduled<Void>?
    private var shutdownState = ShutdownState.active
    /// NIOHTTP2Handler wrote a GOAWAY with an error code: it hit a connection error.
    private var connectionErrorSent = false
    private var isClosed = false

    init(settings: Settings, newStreams: NewStreamQueue, logger: Logger) {
        self.settings = settings
        self.newStreams = newStreams
        self.logger = logger
    }

    // MARK: Channel lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            startHandshakeTimer(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionClosed()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        startHandshakeTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionClosed()
        context.fireChannelInactive()
    }

    /// Checks the calls' deadlines every `deadlineSweepInterval` while any call has one. A call
    /// whose time is up gets DEADLINE_EXCEEDED at once and its handler is cancelled; whatever
    /// the handler does after that (often throwing CANCELLED) is not sent, so the client sees the
    /// same status however its own timer and ours race.
    private func startDeadlineSweep(context: ChannelHandlerContext) {
        guard deadlineSweep == nil else { return }
        deadlineSweep = context.eventLoop.assumeIsolated().scheduleTask(in: Self.deadlineSweepInterval) { [self] in
            deadlineSweep = nil
            let now = NIODeadline.now()
            var pending = false
            for stream in streams.values {
                guard let deadline = stream.deadline else { continue }
                if deadline <= now {
                    stream.deadline = nil
                    failRequest(of: stream, RPCError(code: .deadlineExceeded, message: "The call's deadline passed before it completed."))
                } else {
                    pending = true
                }
            }
            if pending, let context = self.context { startDeadlineSweep(context: context) }
        }
    }

    /// How late a call may be cancelled after its deadline.
    static let deadlineSweepInterval = TimeAmount.milliseconds(10)

    private func startHandshakeTimer(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, !prefaceReceived else { return }
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.handshakeTimeout) { [self] in
            guard !prefaceReceived else { return }
            logger.debug("closing connection that never completed the HTTP/2 handshake")
            self.context?.close(promise: nil)
        }
    }

    /// Every call still open fails; the connection's task stops taking new streams.
    private func connectionClosed() {
        guard !isClosed else { return }
        isClosed = true
        handshakeTimer?.cancel()
        handshakeTimer = nil
        deadlineSweep?.cancel()
        deadlineSweep = nil
        if case .awaitingPingAck(let timeout) = shutdownState { timeout?.cancel() }
        shutdownState = .closing
        let open = streams.values
        streams.removeAll()
        for stream in open {
            stream.abort(RPCError(code: .unavailable, message: "The connection closed before the call finished."))
        }
        newStreams.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case is NIOHTTP2Errors.StreamError:
            // A frame we wrote on a stream that had gone; the stream is already dealt with.
            return
        case is NIOHTTP2Errors.NoSuchStream where !isShutdownActive:
            // A client racing our GOAWAY opened a stream; NIOHTTP2 refuses it.
            return
        case is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering:
            break
        case is any NIOHTTP2Error where !connectionErrorSent:
            // A stream error: NIOHTTP2Handler has reset that stream and the connection is fine.
            logger.debug("HTTP/2 stream error", metadata: ["switchyard.grpc.error": "\(error)"])
            return
        default:
            break
        }
        // Garbage, a bad preface, a protocol or I/O error: this connection only is done.
        logger.debug("closing connection after error", metadata: ["switchyard.grpc.error": "\(error)"])
        context.close(promise: nil)
    }

    private var isShutdownActive: Bool {
        if case .active = shutdownState { return true }
        return false
    }

    // NIOHTTP2FrameDelegate: how we learn that NIOHTTP2Handler hit a connection error (it
    // writes GOAWAY with that error, then reports it through errorCaught).
    func wroteFrame(_ frame: HTTP2Frame) {
        if case .goAway(_, let code, _) = frame.payload, code != .noError {
            connectionErrorSent = true
        }
    }

    // MARK: Frames in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        isReading = true
        let frame = unwrapInboundIn(data)
        if !prefaceReceived {
            // The first frame is the client's SETTINGS, so the preface arrived intact.
            prefaceReceived = true
            handshakeTimer?.cancel()
            handshakeTimer = nil
            // The connection window starts at 65,535 whatever SETTINGS say; open it up.
            let increment = settings.connectionWindowBytes - 65_535
            if increment > 0 {
                write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment)))
            }
        }
        switch frame.payload {
        case .headers(let headers):
            receiveHeaders(headers, streamID: frame.streamID)
        case .data(let data):
            receiveData(data, streamID: frame.streamID)
        case .rstStream(let code):
            if let stream = streams.removeValue(forKey: frame.streamID) {
                stream.abort(RPCError(code: .cancelled, message: "The client reset the stream (\(code))."))
                closeIfDrained()
            }
        case .ping(let data, let ack):
            // NIOHTTP2Handler answers pings itself; only our shutdown ping's ack matters here.
            if ack, data == Self.shutdownPingData, case .awaitingPingAck(let timeout) = shutdownState {
                timeout?.cancel()
                sendFinalGoAway()
            }
        case .goAway, .settings, .windowUpdate, .priority, .pushPromise, .alternativeService, .origin:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        if flushNeeded {
            flushNeeded = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        // Window updates come several per call: test for them first.
        case let window as NIOHTTP2WindowUpdatedEvent:
            guard window.streamID == .rootStream else { break }
            // Connection-level credit goes back as soon as bytes arrive: what bounds memory is
            // each stream's window, which is only credited as its handler consumes.
            if let inbound = window.inboundWindowSize, inbound <= settings.connectionWindowBytes / 2 {
                write(
                    HTTP2Frame(
                        streamID: .rootStream,
                        payload: .windowUpdate(windowSizeIncrement: settings.connectionWindowBytes - inbound)
                    )
                )
            }
        case let closed as StreamClosedEvent:
            if let stream = streams.removeValue(forKey: closed.streamID) {
                if let reason = closed.reason {
                    stream.abort(RPCError(code: .cancelled, message: "The stream was reset (\(reason))."))
                }
                closeIfDrained()
            }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func receiveHeaders(_ headers: HTTP2Frame.FramePayload.Headers, streamID: HTTP2StreamID) {
        if let stream = streams[streamID] {
            // Trailers from a client end its request; anything else mid-stream is a protocol error.
            if headers.endStream {
                stream.remoteClosed = true
                finishRequest(of: stream)
            } else {
                streams.removeValue(forKey: streamID)
                stream.abort(RPCError(code: .internalError, message: "Unexpected HEADERS in the middle of the request."))
                write(HTTP2Frame(streamID: streamID, payload: .rstStream(.protocolError)))
            }
            return
        }
        switch shutdownState {
        case .draining(let lastStreamID) where streamID > lastStreamID:
            // Opened after the final GOAWAY: refused, so the client may retry it elsewhere.
            write(HTTP2Frame(streamID: streamID, payload: .rstStream(.refusedStream)))
            return
        case .closing:
            return
        case .active, .awaitingPingAck, .draining:
            break
        }
        if streamID > highestStreamID { highestStreamID = streamID }

        // One pass over the block: pick out what routing needs and check the request is
        // well-formed (RFC 9113 §8.2-8.3). NIOHTTP2Handler's own header validation is off
        // because its per-character checks cost more than the rest of header handling.
        var method: String?
        var scheme: String?
        var path: String?
        var contentType: String?
        var encoding: String?
        var timeout: TimeAmount?
        var malformed = false
        var seenRegularField = false
        for (name, value, _) in headers.headers {
            if name.utf8.first == UInt8(ascii: ":") {
                if seenRegularField { malformed = true }
                switch name {
                case ":method": if method == nil { method = value } else { malformed = true }
                case ":scheme": if scheme == nil { scheme = value } else { malformed = true }
                case ":path": if path == nil { path = value } else { malformed = true }
                case ":authority": break
                default: malformed = true
                }
                continue
            }
            seenRegularField = true
            if name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) { malformed = true }
            switch name {
            case "content-type": contentType = value
            case "grpc-encoding": encoding = value
            case GRPCHeaders.timeoutHeader: timeout = GRPCTimeout.parse(value)
            // Only "trailers" is legal (RFC 9113 §8.2.2); a missing te is accepted, as
            // grpc-go and grpc-swift accept it.
            case "te": if value != "trailers" { malformed = true }
            case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade": malformed = true
            default: break
            }
        }
        guard !malformed, method != nil, scheme != nil, let path, !path.isEmpty else {
            write(HTTP2Frame(streamID: streamID, payload: .rstStream(.protocolError)))
            return
        }

        let endStream = headers.endStream
        guard let contentType, GRPCHeaders.isGRPCContentType(contentType) else {
            reject(streamID, GRPCHeaders.httpError(status: 415), requestEnded: endStream)
            return
        }
        guard method == "POST" else {
            reject(streamID, GRPCHeaders.httpError(status: 405), requestEnded: endStream)
            return
        }
        if let encoding, encoding != "identity" {
            var trailers = GRPCHeaders.rejection(.unimplemented, "\(encoding) compression is not supported; supported algorithms are listed in grpc-accept-encoding")
            trailers.add(name: "grpc-accept-encoding", value: "identity")
            reject(streamID, trailers, requestEnded: endStream)
            return
        }
        guard let descriptor = settings.descriptorsByPath[path] ?? GRPCHeaders.methodDescriptor(path: path) else {
            reject(streamID, GRPCHeaders.rejection(.unimplemented, "\(path) is not a gRPC method path."), requestEnded: endStream)
            return
        }
        guard let context else { return }

        let stream = GRPCServerStream(
            id: streamID,
            descriptor: descriptor,
            metadata: GRPCHeaders.metadata(from: headers.headers),
            maxMessageBytes: settings.maxRequestMessageBytes,
            connection: self,
            eventLoop: context.eventLoop
        )
        streams[streamID] = stream
        if let timeout {
            // The deadline is enforced here rather than by grpc-swift's executor, which would
            // start a timer task for every call (a fifth of a unary call's cost). One sweep per
            // connection, every `deadlineSweepInterval`, cancels the calls whose time is up, as
            // grpc-swift would: a call costs a stored instant instead of a timer.
            stream.deadline = .now() + timeout
            startDeadlineSweep(context: context)
        }
        if endStream {
            stream.remoteClosed = true
            stream.endInbound(.finished)
        }
        newStreams.yield(stream)
    }

    /// Answers a request that never reaches a handler and stops the client sending the rest.
    private func reject(_ streamID: HTTP2StreamID, _ headers: HPACKHeaders, requestEnded: Bool) {
        write(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: headers, endStream: true))))
        if !requestEnded {
            write(HTTP2Frame(streamID: streamID, payload: .rstStream(.noError)))
        }
    }

    private func receiveData(_ data: HTTP2Frame.FramePayload.Data, streamID: HTTP2StreamID) {
        guard let stream = streams[streamID] else {
            // A stream we rejected or finished; NIOHTTP2 has counted it against the
            // connection window, which `NIOHTTP2WindowUpdatedEvent` replenishes.
            return
        }
        guard case .byteBuffer(let buffer) = data.data else { return }
        // Padding counts against flow control too: pad length byte plus the padding.
        stream.creditOwed += buffer.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
        guard stream.inboundEnd == nil else {
            if data.endStream { stream.remoteClosed = true }
            return
        }
        stream.reader.append(buffer)
        do {
            while let message = try stream.reader.next() {
                stream.deliver(message: message)
            }
        } catch {
            failRequest(of: stream, error)
            return
        }
        if data.endStream {
            stream.remoteClosed = true
            finishRequest(of: stream)
        } else {
            creditIfDue(stream)
        }
    }

    private func finishRequest(of stream: GRPCServerStream) {
        if stream.reader.hasPartialMessage {
            failRequest(of: stream, RPCError(code: .internalError, message: "The request ended in the middle of a message."))
        } else {
            stream.endInbound(.finished)
            retireIfDone(stream)
        }
    }

    /// Ends a call from the transport's side (its request cannot be read, or its deadline
    /// passed): the client gets the status now, the handler gets the error from its request
    /// stream and a cancelled context.
    private func failRequest(of stream: GRPCServerStream, _ error: any Error) {
        let rpcError: RPCError
        switch error {
        case GRPCMessageReader.ReadError.messageTooLarge(let declared, let limit):
            rpcError = RPCError(code: .resourceExhausted, message: "Message of \(declared) bytes exceeds the limit of \(limit) bytes.")
        case GRPCMessageReader.ReadError.compressedWithoutEncoding:
            rpcError = RPCError(code: .internalError, message: "Received a compressed message but no compression was negotiated.")
        case GRPCMessageReader.ReadError.invalidFlag(let flag):
            rpcError = RPCError(code: .internalError, message: "Invalid message flag \(flag).")
        case let error as RPCError:
            rpcError = error
        default:
            rpcError = RPCError(code: .internalError, message: "The request could not be read.")
        }
        let wasRemoteClosed = stream.remoteClosed
        let wasOutbound = stream.outbound
        stream.abort(rpcError)
        if wasOutbound != .closed {
            let trailers = GRPCHeaders.trailers(
                status: Status(code: Status.Code(rpcError.code), message: rpcError.message),
                metadata: [:],
                trailersOnly: wasOutbound == .idle
            )
            write(HTTP2Frame(streamID: stream.id, payload: .headers(.init(headers: trailers, endStream: true))))
        }
        if !wasRemoteClosed {
            write(HTTP2Frame(streamID: stream.id, payload: .rstStream(.noError)))
        }
        streams.removeValue(forKey: stream.id)
        closeIfDrained()
    }

    /// Hands flow-control credit back for `stream` once enough has built up and its handler is
    /// keeping up (unconsumed messages stay under half a window). Bytes of a message still
    /// being assembled are always credited, so a message larger than the window can complete.
    func creditIfDue(_ stream: GRPCServerStream) {
        let half = settings.streamWindowBytes / 2
        guard !stream.remoteClosed, stream.inboundEnd == nil,
            stream.creditOwed >= half, stream.unconsumedBytes <= half
        else { return }
        let increment = stream.creditOwed
        stream.creditOwed = 0
        write(HTTP2Frame(streamID: stream.id, payload: .windowUpdate(windowSizeIncrement: increment)))
    }

    // MARK: Frames out

    /// Sends one response part of `stream`. Returns a future to wait on when the stream has
    /// written enough that the writer should let the socket catch up.
    func write(_ part: RPCResponsePart<SwitchyardGRPCBytes>, on stream: GRPCServerStream) throws -> EventLoopFuture<Void>? {
        guard let context, stream.outbound != .closed else {
            throw RPCError(code: .cancelled, message: "The call's stream is closed.")
        }
        switch part {
        case .metadata(let metadata):
            guard stream.outbound == .idle else {
                throw RPCError(code: .internalError, message: "Response metadata was already sent.")
            }
            stream.outbound = .open
            write(HTTP2Frame(streamID: stream.id, payload: .headers(.init(headers: GRPCHeaders.responseHeaders(metadata: metadata)))))
            return nil

        case .message(let bytes):
            if stream.outbound == .idle {
                stream.outbound = .open
                write(HTTP2Frame(streamID: stream.id, payload: .headers(.init(headers: GRPCHeaders.plainResponseHeaders))))
            }
            let payload = GRPCFraming.framed(bytes.buffer, allocator: context.channel.allocator)
            stream.bytesSinceWriteBarrier += payload.readableBytes
            let frame = HTTP2Frame(streamID: stream.id, payload: .data(.init(data: .byteBuffer(payload))))
            guard stream.bytesSinceWriteBarrier >= Self.writeBarrierBytes else {
                write(frame)
                return nil
            }
            // The promise completes once this frame (and so every earlier one of the stream) is
            // on the socket, which also waits out a closed flow-control window.
            stream.bytesSinceWriteBarrier = 0
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(frame), promise: promise)
            flushNeeded = true
            flushNow()
            return promise.futureResult

        case .status(let status, let metadata):
            let trailers = GRPCHeaders.trailers(status: status, metadata: metadata, trailersOnly: stream.outbound == .idle)
            stream.outbound = .closed
            write(HTTP2Frame(streamID: stream.id, payload: .headers(.init(headers: trailers, endStream: true))))
            if !stream.remoteClosed {
                // The answer is complete; tell the client to stop sending (gRPC spec, as grpc-go).
                stream.remoteClosed = true
                stream.endInbound(.finished)
                write(HTTP2Frame(streamID: stream.id, payload: .rstStream(.noError)))
            }
            retireIfDone(stream)
            return nil
        }
    }

    /// The handler is done writing. Without a status there is nothing valid left to send, so
    /// the stream is reset; with one this does nothing.
    func finishResponse(of stream: GRPCServerStream) {
        guard stream.outbound != .closed else { return }
        stream.outbound = .closed
        stream.remoteClosed = true
        stream.endInbound(.finished)
        write(HTTP2Frame(streamID: stream.id, payload: .rstStream(.internalError)))
        retireIfDone(stream)
    }

    /// Stops routing frames to a call both sides have finished.
    private func retireIfDone(_ stream: GRPCServerStream) {
        guard stream.outbound == .closed, stream.remoteClosed else { return }
        if streams[stream.id] === stream {
            streams.removeValue(forKey: stream.id)
            closeIfDrained()
        }
    }

    private func write(_ frame: HTTP2Frame) {
        guard let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        flushNeeded = true
        scheduleFlush()
    }

    /// Flushes once per batch: at the end of a read cycle when written while reading,
    /// otherwise after the tasks already queued on the loop (other calls finishing now) ran.
    private func scheduleFlush() {
        guard !isReading, !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
            flushScheduled = false
            flushNow()
        }
    }

    private func flushNow() {
        guard flushNeeded, let context else { return }
        flushNeeded = false
        context.flush()
    }

    // MARK: Graceful shutdown

    /// GOAWAY now; the connection closes when its open calls have finished.
    func initiateGracefulShutdown() {
        guard case .active = shutdownState, let context, !isClosed else { return }
        // A GOAWAY with the highest stream ID first: streams the client opened before seeing
        // it still count. The ping's ack proves it saw it; then the real last ID follows.
        write(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil)))
        write(HTTP2Frame(streamID: .rootStream, payload: .ping(Self.shutdownPingData, ack: false)))
        flushNow()
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: settings.goAwayPingTimeout) { [self] in
            if case .awaitingPingAck = shutdownState { sendFinalGoAway() }
        }
        shutdownState = .awaitingPingAck(timeout: timeout)
    }

    private func sendFinalGoAway() {
        shutdownState = .draining(lastStreamID: highestStreamID)
        write(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: highestStreamID, errorCode: .noError, opaqueData: nil)))
        flushNow()
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard case .draining = shutdownState, streams.isEmpty, let context else { return }
        shutdownState = .closing
        // Close only once everything written so far is on the socket.
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: highestStreamID, errorCode: .noError, opaqueData: nil))),
            promise: promise
        )
        promise.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { [self] _ in
            self.context?.close(promise: nil)
        }
    }
}
