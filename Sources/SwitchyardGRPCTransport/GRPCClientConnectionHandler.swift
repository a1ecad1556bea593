import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The gRPC side of one client HTTP/2 connection, placed right after `NIOHTTP2Handler` (which
/// runs without a stream multiplexer).
///
/// It keeps a small `GRPCClientStream` per call in dictionaries instead of a child channel per
/// stream: it opens streams (assigning IDs in the order their HEADERS go out), turns request
/// parts into frames and response frames into parts, does stream- and connection-level inbound
/// flow control, enforces deadlines, coalesces flushes, and reports the connection's life
/// (ready, going away, closed) to the transport. NIOHTTP2Handler answers PINGs and holds back
/// streams beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS until others close.
final class GRPCClientConnectionHandler: ChannelInboundHandler, NIOHTTP2FrameDelegate {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// What the transport hears about the connection.
    enum Event: Sendable {
        /// The connection takes no new calls (GOAWAY, or its stream IDs ran out); the ones it
        /// carries may finish.
        case goingAway
        /// The connection is closed; every call on it has ended.
        case closed
    }

    /// What every connection of one transport shares.
    struct Settings: Sendable {
        var streamWindowBytes: Int
        var connectionWindowBytes: Int
        var handshakeTimeout: TimeAmount
    }

    /// Writes past this many bytes per stream make the writer wait until the socket took them,
    /// so a fast producer cannot buffer without bound.
    static let writeBarrierBytes = 64 * 1024
    /// How late a call may be failed after its deadline.
    static let deadlineSweepInterval = TimeAmount.milliseconds(10)
    /// Past this the connection opens no more streams (IDs are 31-bit and never reused) and the
    /// transport opens another connection.
    static let lastUsableStreamID: Int32 = Int32.max - 2

    private let settings: Settings
    private let authority: String
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void
    /// Succeeds when the server's SETTINGS arrive; fails if the connection closes first.
    let ready: EventLoopPromise<Void>

    private var context: ChannelHandlerContext?
    /// Calls on this connection whose caller has not finished and whose HTTP/2 stream has not
    /// closed, including calls whose HEADERS have not gone out yet.
    private var active: [ObjectIdentifier: GRPCClientStream] = [:]
    /// Calls whose HEADERS went out and whose HTTP/2 stream is open, by stream ID.
    private var streamsByID: [HTTP2StreamID: GRPCClientStream] = [:]
    private var nextStreamID: Int32 = 1
    /// Streams holding back their last request message until the flush.
    private var holdingStreams: [GRPCClientStream] = []
    private let emptyBuffer = ByteBuffer()

    private var isReading = false
    private var flushNeeded = false
    private var flushScheduled = false

    private var isReady = false
    private var acceptsStreams = true
    private var closeWhenIdle = false
    private var isClosed = false
    /// The final GOAWAY is on its way; the channel closes once it is written.
    private var isClosing = false
    /// NIOHTTP2Handler wrote a GOAWAY with an error code: it hit a connection error.
    private var connectionErrorSent = false
    private var handshakeTimer: Scheduled<Void>?
    private var deadlineSweep: Scheduled<Void>?

    init(settings: Settings, authority: String, ready: EventLoopPromise<Void>, logger: Logger, onEvent: @escaping @Sendable (Event) -> Void) {
        self.settings = settings
        self.authority = authority
        self.ready = ready
        self.logger = logger
        self.onEvent = onEvent
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

    private func startHandshakeTimer(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, !isReady else { return }
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.handshakeTimeout) { [self] in
            guard !isReady else { return }
            logger.debug("closing connection whose server never sent its HTTP/2 SETTINGS")
            self.context?.close(promise: nil)
        }
    }

    /// Every call still open fails with UNAVAILABLE (the server may not have seen it, or its
    /// answer is lost); the transport reconnects.
    private func connectionClosed() {
        guard !isClosed else { return }
        isClosed = true
        acceptsStreams = false
        handshakeTimer?.cancel()
        handshakeTimer = nil
        deadlineSweep?.cancel()
        deadlineSweep = nil
        let open = active.values
        active.removeAll()
        streamsByID.removeAll()
        holdingStreams.removeAll()
        for stream in open {
            stream.fail(RPCError(code: .unavailable, message: "The connection closed before the call finished."))
        }
        if !isReady {
            ready.fail(RPCError(code: .unavailable, message: "The connection closed during the HTTP/2 handshake."))
        }
        onEvent(.closed)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering:
            break
        case is any NIOHTTP2Error where !connectionErrorSent:
            // A stream-level problem (a frame for a stream that had just closed, a stream the
            // server broke the rules on): NIOHTTP2Handler reset that stream, and its
            // StreamClosedEvent ends the call. The connection is fine.
            logger.debug("HTTP/2 stream error", metadata: ["switchyard.grpc.error": "\(error)"])
            return
        default:
            break
        }
        // Garbage from the server, a protocol or I/O error: this connection is done.
        logger.debug("closing client connection after error", metadata: ["switchyard.grpc.error": "\(error)"])
        context.close(promise: nil)
    }

    // NIOHTTP2FrameDelegate: how we learn that NIOHTTP2Handler hit a connection error (it
    // writes GOAWAY with that error, then reports it through errorCaught).
    func wroteFrame(_ frame: HTTP2Frame) {
        if case .goAway(_, let code, _) = frame.payload, code != .noError {
            connectionErrorSent = true
        }
    }

    // MARK: Opening calls

    /// A new call on this connection, or `nil` if the connection takes no new calls.
    func openStream(
        descriptor: MethodDescriptor,
        options: CallOptions,
        deadline: NIODeadline?,
        maxResponseMessageBytes: Int
    ) -> GRPCClientStream? {
        guard acceptsStreams, isReady, !isClosed, let context else { return nil }
        let stream = GRPCClientStream(
            descriptor: descriptor,
            timeout: options.timeout,
            deadline: deadline,
            maxRequestMessageBytes: options.maxRequestMessageBytes ?? Int.max,
            maxResponseMessageBytes: options.maxResponseMessageBytes ?? maxResponseMessageBytes,
            connection: self,
            eventLoop: context.eventLoop
        )
        active[ObjectIdentifier(stream)] = stream
        if deadline != nil { startDeadlineSweep(context: context) }
        return stream
    }

    /// Checks the calls' deadlines every `deadlineSweepInterval` while any call has one: a call
    /// costs a stored instant instead of a timer of its own.
    private func startDeadlineSweep(context: ChannelHandlerContext) {
        guard deadlineSweep == nil else { return }
        deadlineSweep = context.eventLoop.assumeIsolated().scheduleTask(in: Self.deadlineSweepInterval) { [self] in
            deadlineSweep = nil
            let now = NIODeadline.now()
            var expired: [GRPCClientStream] = []
            var pending = false
            for stream in active.values {
                guard let deadline = stream.deadline else { continue }
                if deadline <= now {
                    expired.append(stream)
                } else {
                    pending = true
                }
            }
            for stream in expired {
                terminate(stream, error: RPCError(code: .deadlineExceeded, message: "The call's deadline passed before it completed."), reset: .cancel)
            }
            if pending, let context = self.context { startDeadlineSweep(context: context) }
        }
    }

    // MARK: Frames out

    /// Sends one request part of `stream`. Returns a future to wait on when the stream has
    /// written enough that the writer should let the socket catch up.
    func write(_ part: RPCRequestPart<SwitchyardGRPCBytes>, on stream: GRPCClientStream) throws(RPCError) -> EventLoopFuture<Void>? {
        switch part {
        case .metadata(let metadata):
            guard stream.outbound == .idle else { return try refusedWrite(on: stream) }
            guard acceptsStreams, !isClosed, context != nil, nextStreamID <= Self.lastUsableStreamID else {
                let error = RPCError(code: .unavailable, message: "The connection stopped taking new calls before this one started; it may be retried.")
                terminate(stream, error: error, reset: nil)
                throw error
            }
            let id = HTTP2StreamID(nextStreamID)
            nextStreamID += 2
            stream.id = id
            stream.outbound = .open
            streamsByID[id] = stream
            let headers = GRPCHeaders.requestHeaders(
                path: "/\(stream.descriptor.service.fullyQualifiedService)/\(stream.descriptor.method)",
                authority: authority,
                metadata: metadata,
                timeout: stream.timeout
            )
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers))))
            if nextStreamID > Self.lastUsableStreamID { stopTakingStreams() }
            return nil

        case .message(let bytes):
            guard stream.outbound == .open, let id = stream.id, let context else { return try refusedWrite(on: stream) }
            guard bytes.count <= stream.maxRequestMessageBytes else {
                let error = RPCError(
                    code: .resourceExhausted,
                    message: "Request message of \(bytes.count) bytes exceeds the limit of \(stream.maxRequestMessageBytes) bytes."
                )
                terminate(stream, error: error, reset: .cancel)
                throw error
            }
            if let held = stream.heldMessage {
                stream.heldMessage = nil
                write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(held)))))
            }
            let framed = GRPCFraming.framed(bytes.buffer, allocator: context.channel.allocator)
            stream.bytesSinceWriteBarrier += framed.readableBytes
            guard stream.bytesSinceWriteBarrier >= Self.writeBarrierBytes else {
                stream.heldMessage = framed
                holdingStreams.append(stream)
                scheduleFlush()
                return nil
            }
            // The promise completes once this frame (and so every earlier one of the stream) is
            // on the socket, which also waits out a closed flow-control window.
            stream.bytesSinceWriteBarrier = 0
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(framed))))), promise: promise)
            flushNeeded = true
            flushNow()
            return promise.futureResult
        }
    }

    /// A write the stream's state does not allow: the call's error if it failed, nothing if
    /// the response is already complete (the server has answered; the rest of the request is
    /// moot, as grpc-swift's own transport treats it).
    private func refusedWrite(on stream: GRPCClientStream) throws(RPCError) -> EventLoopFuture<Void>? {
        if let failure = stream.failure { throw failure }
        if stream.responseComplete || stream.outbound == .closed { return nil }
        throw RPCError(code: .internalError, message: "Request parts written out of order (metadata must come first, once).")
    }

    /// The caller finished its request: END_STREAM, on the held message's frame if there is one.
    func endRequest(of stream: GRPCClientStream) {
        guard stream.outbound == .open, let id = stream.id else { return }
        stream.outbound = .closed
        stream.endSent = true
        let payload = stream.heldMessage ?? emptyBuffer
        stream.heldMessage = nil
        write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(payload), endStream: true))))
    }

    /// Ends a call from this side: `error` reaches the caller (unless the response already
    /// completed) and, with `reset`, the server gets RST_STREAM if the stream is still open.
    func terminate(_ stream: GRPCClientStream, error: RPCError, reset: HTTP2ErrorCode?) {
        stream.fail(error)
        if let id = stream.id, streamsByID[id] === stream {
            streamsByID.removeValue(forKey: id)
            if let reset, !(stream.endSent && stream.remoteEnded) {
                write(HTTP2Frame(streamID: id, payload: .rstStream(reset)))
            }
        }
        retire(stream)
    }

    /// The caller's closure returned: whatever is still open of the call is cancelled.
    func callerFinished(_ stream: GRPCClientStream) {
        terminate(stream, error: RPCError(code: .cancelled, message: "The call's scope ended."), reset: .cancel)
    }

    private func retire(_ stream: GRPCClientStream) {
        if active.removeValue(forKey: ObjectIdentifier(stream)) != nil {
            closeIfIdle()
        }
    }

    private func write(_ frame: HTTP2Frame) {
        guard let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        flushNeeded = true
        scheduleFlush()
    }

    /// Flushes once per batch: at the end of a read cycle when written while reading,
    /// otherwise after the tasks already queued on the loop (other calls starting now) ran.
    private func scheduleFlush() {
        guard !isReading, !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
            flushScheduled = false
            flushNow()
        }
    }

    private func flushNow() {
        guard let context else { return }
        if !holdingStreams.isEmpty {
            // Requests that did not end in this batch: their last message goes out now, and
            // END_STREAM follows on an empty frame when they do end.
            for stream in holdingStreams {
                guard let held = stream.heldMessage, let id = stream.id else { continue }
                stream.heldMessage = nil
                context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(held))))), promise: nil)
                flushNeeded = true
            }
            holdingStreams.removeAll(keepingCapacity: true)
        }
        guard flushNeeded else { return }
        flushNeeded = false
        context.flush()
    }

    // MARK: Frames in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        isReading = true
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .headers(let headers):
            receiveHeaders(headers, streamID: frame.streamID)
        case .data(let data):
            receiveData(data, streamID: frame.streamID)
        case .rstStream(let code):
            if let stream = streamsByID.removeValue(forKey: frame.streamID) {
                stream.remoteEnded = true
                stream.fail(Self.error(forReset: code))
                retire(stream)
            }
        case .settings(let settings):
            if !isReady, case .settings = settings {
                becameReady()
            }
        case .goAway(let lastStreamID, let code, _):
            receiveGoAway(lastStreamID: lastStreamID, code: code)
        case .ping, .windowUpdate, .priority, .pushPromise, .alternativeService, .origin:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        flushNow()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        // Window updates come several per call: test for them first.
        case let window as NIOHTTP2WindowUpdatedEvent:
            guard window.streamID == .rootStream else { break }
            // Connection-level credit goes back as soon as bytes arrive: what bounds memory is
            // each stream's window, which is only credited as its caller consumes.
            if let inbound = window.inboundWindowSize, inbound <= settings.connectionWindowBytes / 2 {
                write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: settings.connectionWindowBytes - inbound)))
            }
        case let closed as StreamClosedEvent:
            if let stream = streamsByID.removeValue(forKey: closed.streamID) {
                // Both sides ended (or a reset): a call without its status by now has lost it.
                stream.fail(closed.reason.map(Self.error(forReset:)) ?? RPCError(code: .internalError, message: "The stream closed without a status."))
                retire(stream)
            }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func becameReady() {
        isReady = true
        handshakeTimer?.cancel()
        handshakeTimer = nil
        // The connection window starts at 65,535 whatever SETTINGS say; open it up.
        let increment = settings.connectionWindowBytes - 65_535
        if increment > 0 {
            write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment)))
        }
        ready.succeed()
    }

    private func receiveGoAway(lastStreamID: HTTP2StreamID, code: HTTP2ErrorCode) {
        logger.debug("server sent GOAWAY", metadata: ["switchyard.grpc.lastStreamID": "\(lastStreamID)", "switchyard.grpc.code": "\(code)"])
        // Calls the server will not process fail UNAVAILABLE: they never ran, so they are
        // safe to retry (on the next connection).
        let refused = streamsByID.filter { $0.key > lastStreamID }
        for (id, stream) in refused {
            streamsByID.removeValue(forKey: id)
            stream.fail(RPCError(code: .unavailable, message: "The server went away (GOAWAY) before processing the call; it may be retried."))
            retire(stream)
        }
        stopTakingStreams()
    }

    /// No new calls; close once the open ones finish. Tells the transport, which opens a new
    /// connection for later calls.
    private func stopTakingStreams() {
        closeWhenIdle = true
        if acceptsStreams {
            acceptsStreams = false
            onEvent(.goingAway)
        }
        closeIfIdle()
    }

    private func receiveHeaders(_ headers: HTTP2Frame.FramePayload.Headers, streamID: HTTP2StreamID) {
        guard let stream = streamsByID[streamID] else { return }
        if headers.endStream { stream.remoteEnded = true }
        guard !stream.responseComplete else { return }
        if !stream.receivedHeaders {
            switch GRPCHeaders.responseHead(headers.headers, endStream: headers.endStream) {
            case .informational:
                return
            case .metadata(let metadata):
                stream.receive(metadata: metadata)
            case .status(let status, let metadata):
                stream.receive(status: status, metadata: metadata)
                if !headers.endStream {
                    // Not a gRPC response (a proxy's error page, say): stop the stream.
                    terminate(stream, error: RPCError(code: .internalError, message: "Unexpected response."), reset: .cancel)
                }
            }
            return
        }
        // Trailers. A message cut short by them is a broken response, not a status.
        if stream.reader.hasPartialMessage {
            terminate(stream, error: RPCError(code: .internalError, message: "The response ended in the middle of a message."), reset: .cancel)
            return
        }
        let (status, metadata) = GRPCHeaders.trailers(headers.headers)
        stream.receive(status: status, metadata: metadata)
    }

    private func receiveData(_ data: HTTP2Frame.FramePayload.Data, streamID: HTTP2StreamID) {
        guard let stream = streamsByID[streamID], case .byteBuffer(let buffer) = data.data else {
            // A stream we reset or finished; NIOHTTP2 has counted it against the connection
            // window, which `NIOHTTP2WindowUpdatedEvent` replenishes.
            return
        }
        if data.endStream { stream.remoteEnded = true }
        // Padding counts against flow control too: pad length byte plus the padding.
        stream.creditOwed += buffer.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
        guard !stream.responseComplete else { return }
        guard stream.receivedHeaders else {
            terminate(stream, error: RPCError(code: .internalError, message: "The server sent a message before its response headers."), reset: .protocolError)
            return
        }
        stream.reader.append(buffer)
        do {
            while let message = try stream.reader.next() {
                stream.receive(message: message)
            }
        } catch {
            terminate(stream, error: Self.error(reading: error), reset: .cancel)
            return
        }
        if data.endStream {
            // Only trailers may end a gRPC response.
            terminate(stream, error: RPCError(code: .internalError, message: "The server ended the response without a status."), reset: .cancel)
        } else {
            creditIfDue(stream)
        }
    }

    /// Hands flow-control credit back for `stream` once enough has built up and its caller is
    /// keeping up (unconsumed messages stay under half a window). Bytes of a message still
    /// being assembled are always credited, so a message larger than the window can complete.
    func creditIfDue(_ stream: GRPCClientStream) {
        let half = settings.streamWindowBytes / 2
        guard !stream.remoteEnded, !stream.responseComplete, let id = stream.id,
            stream.creditOwed >= half, stream.unconsumedBytes <= half
        else { return }
        let increment = stream.creditOwed
        stream.creditOwed = 0
        write(HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: increment)))
    }

    private static func error(reading error: GRPCMessageReader.ReadError) -> RPCError {
        switch error {
        case .messageTooLarge(let declared, let limit):
            return RPCError(code: .resourceExhausted, message: "Response message of \(declared) bytes exceeds the limit of \(limit) bytes.")
        case .compressedWithoutEncoding:
            return RPCError(code: .internalError, message: "Received a compressed message but no compression was negotiated.")
        case .invalidFlag(let flag):
            return RPCError(code: .internalError, message: "Invalid message flag \(flag).")
        }
    }

    /// RST_STREAM codes as gRPC maps them (PROTOCOL-HTTP2.md, "Errors").
    static func error(forReset code: HTTP2ErrorCode) -> RPCError {
        let message = "The server reset the stream (\(code))."
        switch code {
        case .refusedStream:
            return RPCError(code: .unavailable, message: message)
        case .cancel:
            return RPCError(code: .cancelled, message: message)
        case .enhanceYourCalm:
            return RPCError(code: .resourceExhausted, message: message)
        case .inadequateSecurity:
            return RPCError(code: .permissionDenied, message: message)
        default:
            return RPCError(code: .internalError, message: message)
        }
    }

    // MARK: Closing

    /// No new calls (shutdown, or the transport moved to another address); close when the
    /// open ones have finished.
    func closeGracefully() {
        closeWhenIdle = true
        acceptsStreams = false
        closeIfIdle()
    }

    private func closeIfIdle() {
        guard closeWhenIdle, active.isEmpty, !isClosed, !isClosing, let context else { return }
        isClosing = true
        flushNow()
        // Close only once everything written so far is on the socket; the GOAWAY tells the
        // server it was deliberate.
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: .rootStream, errorCode: .noError, opaqueData: nil))),
            promise: promise
        )
        promise.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { [self] _ in
            self.context?.close(promise: nil)
        }
    }
}
