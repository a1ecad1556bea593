package import GRPCCore
package import Logging
package import NIOCore
import NIOHTTP2
import NIOHPACK
import NIOPosix
import Synchronization

/// A gRPC-over-HTTP/2 server transport for grpc-swift 2 that serves each connection's calls on
/// that connection's event loop.
///
/// Where grpc-swift-nio-transport gives every HTTP/2 stream a child channel and an
/// `NIOAsyncChannel`, this transport keeps one `NIOHTTP2Handler` per connection without a
/// multiplexer and a small per-call state object; handler tasks prefer the connection's event
/// loop as their executor, so a unary call never leaves the thread that reads its socket.
///
/// ## Configuring and starting a server
///
/// ```swift
/// let transport = SwitchyardHTTP2ServerTransport(configuration: .init(port: 0))
/// let server = GRPCServer(transport: transport, services: [GreeterService()])
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await server.serve() }
///     let address = try await transport.listeningAddress
///     print("listening on port \(address.port ?? 0)")
/// }
/// ```
///
/// `beginGracefulShutdown()` stops accepting connections, sends GOAWAY on every connection,
/// lets open calls finish and closes connections as they drain; then `listen` returns.
package final class SwitchyardHTTP2ServerTransport: ServerTransport {
    /// The metadata key a call's `grpc-timeout` arrives under. The transport enforces the
    /// deadline itself (cancelling the call when it passes), so the standard header is not
    /// handed to grpc-swift, whose executor would run its own, costlier timer for it.
    package static let deadlineMetadataKey = "switchyard-grpc-timeout"

    package typealias Bytes = SwitchyardGRPCBytes

    /// Where the transport listens and the limits it enforces.
    package struct Configuration: Sendable {
        /// The address to bind.
        package var host: String
        /// The port to bind; 0 picks a free one (read it back from `listeningAddress`).
        package var port: Int
        /// Larger request messages fail with RESOURCE_EXHAUSTED, decided from the length prefix.
        package var maxRequestMessageBytes: Int
        /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients.
        package var maxConcurrentStreams: Int
        /// The per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE).
        package var streamWindowBytes: Int
        /// The connection-level receive window.
        package var connectionWindowBytes: Int
        /// SETTINGS_MAX_FRAME_SIZE advertised to clients.
        package var maxFrameBytes: Int
        /// A connection that has not sent a complete HTTP/2 preface by then is closed.
        package var handshakeTimeout: Duration
        /// How long graceful shutdown waits for the client to acknowledge the first GOAWAY
        /// before naming the last stream it will serve.
        package var goAwayPingTimeout: Duration
        /// Event loops to run; `nil` is one per CPU this process may run on.
        package var eventLoopCount: Int?

        /// - Parameters:
        ///   - host: The address to bind; loopback by default.
        ///   - port: The port; 0 picks a free one.
        ///   - maxRequestMessageBytes: The largest request message accepted (default 4 MiB).
        package init(
            host: String = "127.0.0.1",
            port: Int,
            maxRequestMessageBytes: Int = 4 * 1024 * 1024
        ) {
            self.host = host
            self.port = port
            self.maxRequestMessageBytes = maxRequestMessageBytes
            // What a connection can make the server hold is roughly streams × (window +
            // one message being assembled): keep the window moderate, large enough that a
            // loopback upload is not window-bound.
            self.maxConcurrentStreams = 1024
            self.streamWindowBytes = 256 * 1024
            self.connectionWindowBytes = 2 * 1024 * 1024
            self.maxFrameBytes = 1 << 14
            self.handshakeTimeout = .seconds(10)
            self.goAwayPingTimeout = .seconds(1)
            self.eventLoopCount = nil
        }
    }

    private struct State {
        var descriptorsByPath: [String: MethodDescriptor] = [:]
        var isListening = false
        var isShuttingDown = false
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: GRPCConnection] = [:]
        var address = AddressState.pending([])
    }

    private enum AddressState {
        case pending([CheckedContinuation<SocketAddress, any Error>])
        case bound(SocketAddress)
        case stopped
    }

    private let configuration: Configuration
    private let providedGroup: (any EventLoopGroup)?
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - configuration: Address and limits.
    ///   - eventLoopGroup: Loops to serve on; by default the transport runs its own group,
    ///     sized by `ProcessorAffinity`, for as long as `listen` runs. Handlers run on these
    ///     loops, so a handler that blocks (a synchronous database call waiting on a lock)
    ///     stalls its loop's connections: a group per server keeps that within one server when
    ///     several share a process (`switchyard dev`, tests). A process-wide group was tried and
    ///     made unrelated servers' calls miss deadlines under the full test suite.
    ///   - logger: For connection-level errors, at debug level.
    package init(
        configuration: Configuration,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "switchyard.grpc.transport", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.providedGroup = eventLoopGroup
        self.logger = logger
    }

    /// The bound address; waits until `listen` has bound. Throws once the transport stopped or
    /// failed to bind.
    package var listeningAddress: SocketAddress {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let result: Result<SocketAddress, any Error>? = state.withLock { state in
                    switch state.address {
                    case .pending(var waiters):
                        waiters.append(continuation)
                        state.address = .pending(waiters)
                        return nil
                    case .bound(let address):
                        return .success(address)
                    case .stopped:
                        return .failure(RuntimeError(code: .serverIsStopped, message: "The transport is not listening."))
                    }
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }

    package func configure(context: GRPCServerContext) {
        // Descriptors the services registered, so a request's :path maps to one without parsing.
        var byPath: [String: MethodDescriptor] = [:]
        for descriptor in context.methods {
            byPath["/\(descriptor.service.fullyQualifiedService)/\(descriptor.method)"] = descriptor
        }
        state.withLock { $0.descriptorsByPath = byPath }
    }

    package func listen(
        streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
    ) async throws {
        let descriptorsByPath = try state.withLock { state in
            guard !state.isListening else {
                throw RuntimeError(code: .serverIsAlreadyRunning, message: "The transport is already listening.")
            }
            state.isListening = true
            return state.descriptorsByPath
        }
        let group = providedGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopCount ?? ProcessorAffinity.usableProcessorCount)
        do {
            try await serve(on: group, descriptorsByPath: descriptorsByPath, streamHandler: streamHandler)
        } catch {
            setAddressStopped()
            if providedGroup == nil { try? await group.shutdownGracefully() }
            throw error
        }
        setAddressStopped()
        if providedGroup == nil { try await group.shutdownGracefully() }
    }

    package func beginGracefulShutdown() {
        let (serverChannel, connections) = state.withLock { state in
            state.isShuttingDown = true
            return (state.serverChannel, Array(state.connections.values))
        }
        serverChannel?.close(promise: nil)
        for connection in connections {
            connection.beginGracefulShutdown()
        }
    }

    private func serve(
        on group: any EventLoopGroup,
        descriptorsByPath: [String: MethodDescriptor],
        streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
    ) async throws {
        let settings = GRPCConnectionHandler.Settings(
            maxRequestMessageBytes: configuration.maxRequestMessageBytes,
            streamWindowBytes: configuration.streamWindowBytes,
            connectionWindowBytes: configuration.connectionWindowBytes,
            handshakeTimeout: TimeAmount(configuration.handshakeTimeout),
            goAwayPingTimeout: TimeAmount(configuration.goAwayPingTimeout),
            descriptorsByPath: descriptorsByPath
        )
        let http2 = http2Configuration()
        let logger = self.logger

        let serverChannel: NIOAsyncChannel<GRPCConnection, Never>
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try GRPCConnection.configure(channel: channel, settings: settings, http2: http2, logger: logger)
                    }
                }
        } catch {
            throw RuntimeError(
                code: .transportError,
                message: "Could not bind \(configuration.host):\(configuration.port).",
                cause: error
            )
        }

        let (waiters, shutDownAlready) = state.withLock { state in
            state.serverChannel = serverChannel.channel
            var waiters: [CheckedContinuation<SocketAddress, any Error>] = []
            if case .pending(let pending) = state.address { waiters = pending }
            if let address = serverChannel.channel.localAddress {
                state.address = .bound(address)
            }
            return (waiters, state.isShuttingDown)
        }
        if let address = serverChannel.channel.localAddress {
            for waiter in waiters { waiter.resume(returning: address) }
        }
        if shutDownAlready {
            serverChannel.channel.close(promise: nil)
        }

        try await serverChannel.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask(executorPreference: connection.executor) {
                        await self.run(connection, streamHandler: streamHandler)
                    }
                }
            }
        }
    }

    private func run(
        _ connection: GRPCConnection,
        streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
    ) async {
        let id = ObjectIdentifier(connection)
        let shuttingDown = state.withLock { state in
            state.connections[id] = connection
            return state.isShuttingDown
        }
        if shuttingDown { connection.beginGracefulShutdown() }
        await connection.serve(streamHandler: streamHandler)
        _ = state.withLock { $0.connections.removeValue(forKey: id) }
    }

    private func setAddressStopped() {
        let waiters = state.withLock { state -> [CheckedContinuation<SocketAddress, any Error>] in
            defer { state.address = .stopped }
            if case .pending(let waiters) = state.address { return waiters }
            return []
        }
        for waiter in waiters {
            waiter.resume(throwing: RuntimeError(code: .serverIsStopped, message: "The transport stopped before it was listening."))
        }
    }

    private func http2Configuration() -> NIOHTTP2Handler.Configuration {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.maxConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: configuration.streamWindowBytes),
            HTTP2Setting(parameter: .maxFrameSize, value: configuration.maxFrameBytes),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        connection.targetWindowSize = configuration.connectionWindowBytes
        connection.headerBlockValidation = .disabled
        connection.contentLengthValidation = .disabled
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = configuration.streamWindowBytes
        return NIOHTTP2Handler.Configuration(connection: connection, stream: stream)
    }
}

/// One accepted connection: its channel, the executor its tasks prefer, and the streams its
/// handler announces.
final class GRPCConnection: Sendable {
    let channel: any Channel
    let executor: EventLoopTaskExecutor
    private let handler: NIOLoopBound<GRPCConnectionHandler>
    private let newStreams: NewStreamQueue
    private let remotePeer: String
    private let localPeer: String

    private init(
        channel: any Channel,
        handler: GRPCConnectionHandler,
        newStreams: NewStreamQueue
    ) {
        self.channel = channel
        self.executor = EventLoopTaskExecutor.on(channel.eventLoop)
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.newStreams = newStreams
        self.remotePeer = channel.remoteAddress.grpcPeerDescription
        self.localPeer = channel.localAddress.grpcPeerDescription
    }

    /// Installs the HTTP/2 and gRPC handlers on a new connection. Runs on its event loop.
    static func configure(
        channel: any Channel,
        settings: GRPCConnectionHandler.Settings,
        http2: NIOHTTP2Handler.Configuration,
        logger: Logger
    ) throws -> GRPCConnection {
        let newStreams = NewStreamQueue(eventLoop: channel.eventLoop)
        let handler = GRPCConnectionHandler(settings: settings, newStreams: newStreams, logger: logger)
        let http2Handler = NIOHTTP2Handler(
            mode: .server,
            frameDelegate: handler,
            connectionConfiguration: http2.connection,
            streamConfiguration: http2.stream
        )
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(WriteCoalescingHandler())
        try pipeline.addHandler(http2Handler)
        try pipeline.addHandler(handler)
        return GRPCConnection(channel: channel, handler: handler, newStreams: newStreams)
    }

    func beginGracefulShutdown() {
        let handler = self.handler
        channel.eventLoop.execute {
            handler.value.initiateGracefulShutdown()
        }
    }

    /// Runs every call the connection carries, each in its own child task, until the
    /// connection closes and the calls have finished. Cancelling it closes the connection.
    func serve(
        streamHandler: @escaping @Sendable (RPCStream<GRPCServerStreamInbound.RPCInbound, GRPCServerStreamOutbound.RPCOutbound>, ServerContext) async -> Void
    ) async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for await stream in newStreams {
                    // Inherits the connection task's executor preference: the call runs on the loop.
                    group.addTask {
                        await self.serve(stream, streamHandler: streamHandler)
                    }
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private func serve(
        _ stream: GRPCServerStream,
        streamHandler: @escaping @Sendable (RPCStream<GRPCServerStreamInbound.RPCInbound, GRPCServerStreamOutbound.RPCOutbound>, ServerContext) async -> Void
    ) async {
        await withServerContextRPCCancellationHandle { handle in
            if stream.eventLoop.inEventLoop {
                stream.attach(handle)
            } else {
                stream.eventLoop.execute { stream.attach(handle) }
            }
            let context = ServerContext(
                descriptor: stream.descriptor,
                remotePeer: remotePeer,
                localPeer: localPeer,
                cancellation: handle
            )
            let rpc = RPCStream(
                descriptor: stream.descriptor,
                inbound: RPCAsyncSequence(wrapping: GRPCServerStreamInbound(stream: stream)),
                outbound: RPCWriter.Closable(wrapping: GRPCServerStreamOutbound(stream: stream))
            )
            await streamHandler(rpc, context)
        }
        // A handler that returned without a status leaves nothing valid to send: reset.
        if stream.eventLoop.inEventLoop {
            stream.connection.finishResponse(of: stream)
        } else {
            stream.eventLoop.execute { stream.connection.finishResponse(of: stream) }
        }
    }
}

extension GRPCServerStreamInbound {
    typealias RPCInbound = RPCAsyncSequence<RPCRequestPart<SwitchyardGRPCBytes>, any Error>
}

extension GRPCServerStreamOutbound {
    typealias RPCOutbound = RPCWriter<RPCResponsePart<SwitchyardGRPCBytes>>.Closable
}
