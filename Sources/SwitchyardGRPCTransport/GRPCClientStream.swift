import GRPCCore
import NIOCore
import NIOHTTP2

/// One call on a client connection: what the caller has sent and what the server has answered.
///
/// All state is confined to the connection's event loop. The caller's task normally runs there
/// too (`SwitchyardHTTP2ClientTransport.withStream` prefers the loop's `EventLoopTaskExecutor`),
/// so request parts become frames and response frames become parts without locks or thread
/// hops; the `Sendable` views below check `inEventLoop` and hop only when a caller reads or
/// writes from elsewhere.
// @unchecked: every mutable property is touched only on `eventLoop` (see above).
final class GRPCClientStream: LoopBoundPartSource, @unchecked Sendable {  // unchecked: state confined to `eventLoop`
    typealias Part = RPCResponsePart<SwitchyardGRPCBytes>

    /// What the request side has sent.
    enum OutboundState {
        /// No HEADERS yet (the caller has not written its metadata).
        case idle
        /// HEADERS are out; messages may follow.
        case open
        /// END_STREAM or RST_STREAM is out, or the response is over: nothing more is sent.
        case closed
    }

    let descriptor: MethodDescriptor
    let eventLoop: any EventLoop
    /// Owns the channel this stream writes to. Strong: the handler drops its streams when the
    /// connection closes, which breaks the cycle.
    let connection: GRPCClientConnectionHandler
    /// `options.timeout`, for `grpc-timeout` when the request metadata carries none.
    let timeout: Duration?
    let maxRequestMessageBytes: Int

    /// Assigned when the HEADERS go out: stream IDs must rise in the order streams open.
    var id: HTTP2StreamID?
    /// When the call's timeout runs out; the connection's sweep fails it then.
    var deadline: NIODeadline?

    // MARK: Request side

    var outbound = OutboundState.idle
    /// The last request message, framed, not yet written: if the request ends before the
    /// connection flushes, END_STREAM rides on its DATA frame instead of an empty frame of
    /// its own (a unary request is then HEADERS and one DATA frame).
    var heldMessage: ByteBuffer?
    /// Bytes written since the writer last waited for the socket to take them.
    var bytesSinceWriteBarrier = 0
    /// Our END_STREAM is out.
    var endSent = false

    // MARK: Response side

    var reader: GRPCMessageReader
    /// The server's END_STREAM (or RST_STREAM) arrived.
    var remoteEnded = false
    /// Response headers have arrived (so DATA and trailers may follow).
    var receivedHeaders = false
    /// The response is over for the transport: the status arrived or the call failed. Frames
    /// for the stream are ignored from then on.
    var responseComplete = false
    private var pendingMetadata: Metadata?
    private var messages = MessageQueue()
    private var pendingStatus: (Status, Metadata)?
    private var statusDelivered = false
    /// Why the call failed, reported ahead of anything still queued, on every read.
    private(set) var failure: RPCError?
    private var waiter: UnsafeContinuation<Part?, any Error>?

    /// Bytes of received messages the caller has not taken yet (prefixes included).
    var unconsumedBytes = 0
    /// Flow-controlled bytes received and not yet handed back with a WINDOW_UPDATE.
    var creditOwed = 0

    init(
        descriptor: MethodDescriptor,
        timeout: Duration?,
        deadline: NIODeadline?,
        maxRequestMessageBytes: Int,
        maxResponseMessageBytes: Int,
        connection: GRPCClientConnectionHandler,
        eventLoop: any EventLoop
    ) {
        self.descriptor = descriptor
        self.timeout = timeout
        self.deadline = deadline
        self.maxRequestMessageBytes = maxRequestMessageBytes
        self.reader = GRPCMessageReader(maxMessageBytes: maxResponseMessageBytes)
        self.connection = connection
        self.eventLoop = eventLoop
    }

    // MARK: Response parts in (called by the connection handler)

    func receive(metadata: Metadata) {
        receivedHeaders = true
        pendingMetadata = metadata
        wakeWaiter()
    }

    func receive(message: ByteBuffer) {
        unconsumedBytes += message.readableBytes + GRPCFraming.prefixLength
        messages.append(message)
        wakeWaiter()
    }

    /// The call's status: the end of the response, after the messages already queued.
    func receive(status: Status, metadata: Metadata) {
        guard !responseComplete else { return }
        responseComplete = true
        pendingStatus = (status, metadata)
        wakeWaiter()
    }

    /// The call is over without a status from the server (deadline, cancellation, connection
    /// lost, a response that cannot be read). The caller sees `error` on its next read, ahead of
    /// anything still queued; writes fail with it. Only the first ending counts.
    func fail(_ error: RPCError) {
        outbound = .closed
        heldMessage = nil
        guard !responseComplete else { return }
        responseComplete = true
        failure = error
        messages.removeAll()
        unconsumedBytes = 0
        pendingMetadata = nil
        wakeWaiter()
    }

    private func wakeWaiter() {
        guard let waiter else { return }
        do {
            let (part, isReady) = try nextPartIfReady()
            guard isReady else { return }
            self.waiter = nil
            waiter.resume(returning: part)
        } catch {
            self.waiter = nil
            waiter.resume(throwing: error)
        }
    }

    // MARK: Parts out to the caller

    /// The next response part if one is ready, else `nil` with `isReady == false`.
    func nextPartIfReady() throws(RPCError) -> (part: Part?, isReady: Bool) {
        if let failure { throw failure }
        if let metadata = pendingMetadata {
            pendingMetadata = nil
            return (.metadata(metadata), true)
        }
        if let message = messages.popFirst() {
            unconsumedBytes -= message.readableBytes + GRPCFraming.prefixLength
            connection.creditIfDue(self)
            return (.message(SwitchyardGRPCBytes(message)), true)
        }
        if let (status, metadata) = pendingStatus {
            pendingStatus = nil
            statusDelivered = true
            return (.status(status, metadata), true)
        }
        return (nil, statusDelivered)
    }

    func waitForNextPart(_ continuation: UnsafeContinuation<Part?, any Error>) {
        do {
            let (part, isReady) = try nextPartIfReady()
            if isReady {
                continuation.resume(returning: part)
            } else if waiter != nil {
                // Iterators are not shared, so two waiters means misuse; fail the newer one.
                continuation.resume(throwing: RPCError(code: .internalError, message: "Concurrent reads of one response stream."))
            } else {
                waiter = continuation
            }
        } catch {
            continuation.resume(throwing: error)
        }
    }

    /// The caller's task was cancelled while it waited for a response part.
    func readerCancelled() {
        connection.terminate(self, error: RPCError(code: .cancelled, message: "The call was cancelled."), reset: .cancel)
    }
}

/// The response parts of one call, as grpc-swift reads them.
typealias GRPCClientStreamInbound = LoopBoundPartSequence<GRPCClientStream>

/// The request side of one call, as grpc-swift writes it.
struct GRPCClientStreamOutbound: ClosableRPCWriterProtocol {
    typealias Element = RPCRequestPart<SwitchyardGRPCBytes>

    let stream: GRPCClientStream

    func write(_ element: Element) async throws {
        let stream = self.stream
        if stream.eventLoop.inEventLoop {
            if let barrier = try stream.connection.write(element, on: stream) {
                try await Self.wait(for: barrier, stream: stream)
            }
        } else {
            let barrier = try await stream.eventLoop.submit { () throws -> EventLoopFuture<Void>? in
                try stream.connection.write(element, on: stream)
            }.get()
            if let barrier {
                try await Self.wait(for: barrier, stream: stream)
            }
        }
    }

    /// Waits until the socket took what the stream wrote (which also waits out a closed
    /// flow-control window), failing with the call's error if the call ended meanwhile.
    private static func wait(for barrier: EventLoopFuture<Void>, stream: GRPCClientStream) async throws {
        do {
            try await barrier.get()
        } catch {
            throw try await stream.eventLoop.submit { () -> any Error in
                stream.failure ?? RPCError(code: .unavailable, message: "The request could not be written.", cause: error)
            }.get()
        }
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements {
            try await write(element)
        }
    }

    func finish() async {
        let stream = self.stream
        if stream.eventLoop.inEventLoop {
            stream.connection.endRequest(of: stream)
        } else {
            stream.eventLoop.execute { stream.connection.endRequest(of: stream) }
        }
    }

    /// The request was abandoned (a serializer or the caller's producer threw): the call ends
    /// with that error, and the server is told to stop with RST_STREAM.
    func finish(throwing error: any Error) async {
        let rpcError = (error as? RPCError) ?? RPCError(code: .unknown, message: "The request could not be produced.", cause: error)
        let stream = self.stream
        if stream.eventLoop.inEventLoop {
            stream.connection.terminate(stream, error: rpcError, reset: .cancel)
        } else {
            stream.eventLoop.execute { stream.connection.terminate(stream, error: rpcError, reset: .cancel) }
        }
    }
}
