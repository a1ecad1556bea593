import GRPCCore
import NIOCore
import NIOHTTP2

/// One gRPC call on a connection: what the connection handler has received for it and what its
/// handler has sent.
///
/// All state is confined to the connection's event loop. The handler task normally runs there
/// too (it prefers the loop's `EventLoopTaskExecutor`), so parts pass between frames and the
/// handler without locks or thread hops; the `Sendable` views below check `inEventLoop` and hop
/// only when a handler has wandered off the loop.
// @unchecked: every mutable property is touched only on `eventLoop` (see above).
final class GRPCServerStream: LoopBoundPartSource, @unchecked Sendable {  // unchecked: state confined to `eventLoop`
    typealias Part = RPCRequestPart<SwitchyardGRPCBytes>

    /// How the request side ended, once it has.
    enum InboundEnd {
        case finished
        case failed(RPCError)
    }

    /// What the response side has sent.
    enum OutboundState {
        /// Nothing yet: a status now is a trailers-only response.
        case idle
        /// Response headers are out; messages may follow.
        case open
        /// Trailers or RST_STREAM are out; nothing more may be sent.
        case closed
    }

    let id: HTTP2StreamID
    let descriptor: MethodDescriptor
    let eventLoop: any EventLoop
    /// Owns the channel this stream writes to. Strong: the handler drops its streams when the
    /// connection closes, which breaks the cycle.
    let connection: GRPCConnectionHandler

    // MARK: Request side

    private var metadata: Metadata?
    private var messages = MessageQueue()
    private(set) var inboundEnd: InboundEnd?
    private var waiter: UnsafeContinuation<Part?, any Error>?
    var reader: GRPCMessageReader
    /// The client sent END_STREAM (or reset the stream).
    var remoteClosed = false

    /// Bytes of received messages the handler has not taken yet (prefixes included).
    var unconsumedBytes = 0
    /// Flow-controlled bytes received and not yet handed back with a WINDOW_UPDATE.
    var creditOwed = 0

    // MARK: Response side

    var outbound = OutboundState.idle
    /// Bytes written since the handler last waited for the socket to take them.
    var bytesSinceWriteBarrier = 0

    // MARK: Cancellation

    private var cancellationHandle: ServerContext.RPCCancellationHandle?
    private var isCancelled = false
    /// When the call's `grpc-timeout` runs out; the connection's sweep cancels it then.
    var deadline: NIODeadline?

    init(
        id: HTTP2StreamID,
        descriptor: MethodDescriptor,
        metadata: Metadata,
        maxMessageBytes: Int,
        connection: GRPCConnectionHandler,
        eventLoop: any EventLoop
    ) {
        self.id = id
        self.descriptor = descriptor
        self.metadata = metadata
        self.reader = GRPCMessageReader(maxMessageBytes: maxMessageBytes)
        self.connection = connection
        self.eventLoop = eventLoop
    }

    // MARK: Frames in (called by the connection handler)

    func deliver(message: ByteBuffer) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: .message(SwitchyardGRPCBytes(message)))
        } else {
            unconsumedBytes += message.readableBytes + GRPCFraming.prefixLength
            messages.append(message)
        }
    }

    /// The request side is over: normally (`.finished`) or not. Only the first end counts.
    func endInbound(_ end: InboundEnd) {
        guard inboundEnd == nil else { return }
        inboundEnd = end
        if case .failed = end {
            // The handler will never read these; a failure is reported ahead of them.
            messages.removeAll()
            unconsumedBytes = 0
        }
        guard let waiter else { return }
        self.waiter = nil
        switch end {
        case .finished:
            waiter.resume(returning: nil)
        case .failed(let error):
            waiter.resume(throwing: error)
        }
    }

    /// The call is over from the transport's side (reset, connection lost, bad request data):
    /// fail the request stream, stop the response, and tell the handler through its context.
    func abort(_ error: RPCError) {
        remoteClosed = true
        outbound = .closed
        endInbound(.failed(error))
        cancel()
    }

    func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        if let handle = cancellationHandle {
            cancellationHandle = nil
            handle.cancel()
        }
    }

    func attach(_ handle: ServerContext.RPCCancellationHandle) {
        if isCancelled {
            handle.cancel()
        } else {
            cancellationHandle = handle
        }
    }

    // MARK: Parts out to the handler

    /// The next request part if one is ready, else `nil` with `isReady == false`.
    func nextPartIfReady() throws -> (part: Part?, isReady: Bool) {
        if let metadata {
            self.metadata = nil
            return (.metadata(metadata), true)
        }
        if let message = messages.popFirst() {
            unconsumedBytes -= message.readableBytes + GRPCFraming.prefixLength
            connection.creditIfDue(self)
            return (.message(SwitchyardGRPCBytes(message)), true)
        }
        switch inboundEnd {
        case .none:
            return (nil, false)
        case .finished:
            return (nil, true)
        case .failed(let error):
            throw error
        }
    }

    func waitForNextPart(_ continuation: UnsafeContinuation<Part?, any Error>) {
        do {
            let (part, isReady) = try nextPartIfReady()
            if isReady {
                continuation.resume(returning: part)
            } else if let previous = waiter {
                // Iterators are not shared, so two waiters means misuse; fail the newer one.
                self.waiter = previous
                continuation.resume(throwing: RPCError(code: .internalError, message: "Concurrent reads of one request stream."))
            } else {
                waiter = continuation
            }
        } catch {
            continuation.resume(throwing: error)
        }
    }

    func readerCancelled() {
        guard let waiter else { return }
        self.waiter = nil
        waiter.resume(throwing: CancellationError())
    }
}

/// The request parts of one call, as grpc-swift reads them.
typealias GRPCServerStreamInbound = LoopBoundPartSequence<GRPCServerStream>

/// The response side of one call, as grpc-swift writes it.
struct GRPCServerStreamOutbound: ClosableRPCWriterProtocol {
    typealias Element = RPCResponsePart<SwitchyardGRPCBytes>

    let stream: GRPCServerStream

    func write(_ element: Element) async throws {
        let stream = self.stream
        if stream.eventLoop.inEventLoop {
            if let barrier = try stream.connection.write(element, on: stream) {
                try await barrier.get()
            }
        } else {
            try await stream.eventLoop.flatSubmit {
                do {
                    return try stream.connection.write(element, on: stream) ?? stream.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return stream.eventLoop.makeFailedFuture(error)
                }
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
            stream.connection.finishResponse(of: stream)
        } else {
            stream.eventLoop.execute { stream.connection.finishResponse(of: stream) }
        }
    }

    /// A response abandoned with an error and no status: the transport has no status to send,
    /// so it resets the stream as `finish()` does.
    func finish(throwing error: any Error) async {
        await finish()
    }
}
