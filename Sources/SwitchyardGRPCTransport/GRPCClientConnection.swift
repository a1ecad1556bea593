import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// One client connection: its channel, the executor calls on it prefer, and its handler.
final class GRPCClientConnection: Sendable {
    /// Unique within its transport.
    let id: UInt64
    /// Which of the transport's connection slots it fills.
    let slot: Int
    let address: SwitchyardHTTP2ClientTransport.Address
    let channel: any Channel
    let executor: EventLoopTaskExecutor
    let handler: NIOLoopBound<GRPCClientConnectionHandler>
    let remotePeer: String
    let localPeer: String
    private let ready: EventLoopFuture<Void>

    var eventLoop: any EventLoop { channel.eventLoop }

    private init(id: UInt64, slot: Int, address: SwitchyardHTTP2ClientTransport.Address, channel: any Channel, handler: GRPCClientConnectionHandler) {
        self.id = id
        self.slot = slot
        self.address = address
        self.channel = channel
        self.executor = EventLoopTaskExecutor.on(channel.eventLoop)
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.ready = handler.ready.futureResult
        self.remotePeer = channel.remoteAddress.grpcPeerDescription
        self.localPeer = channel.localAddress.grpcPeerDescription
    }

    /// What opening a connection needs besides the address.
    struct Options: Sendable {
        var settings: GRPCClientConnectionHandler.Settings
        var http2: NIOHTTP2Handler.Configuration
        var connectTimeout: TimeAmount
        var authority: String?
        var logger: Logger
    }

    /// Connects to `address` and waits for the server's HTTP/2 SETTINGS: a server that accepts
    /// TCP but does not speak HTTP/2 is a failed attempt, not a ready connection.
    static func connect(
        id: UInt64,
        slot: Int,
        to address: SwitchyardHTTP2ClientTransport.Address,
        group: any EventLoopGroup,
        options: Options,
        onEvent: @escaping @Sendable (GRPCClientConnectionHandler.Event) -> Void
    ) async throws -> GRPCClientConnection {
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(options.connectTimeout)
        let authority = options.authority ?? address.description
        let initializer: @Sendable (any Channel) -> EventLoopFuture<GRPCClientConnection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try configure(channel: channel, id: id, slot: slot, address: address, authority: authority, options: options, onEvent: onEvent)
            }
        }
        let connection: GRPCClientConnection
        if let socketAddress = try? SocketAddress(ipAddress: address.host, port: address.port) {
            connection = try await bootstrap.connect(to: socketAddress, channelInitializer: initializer)
        } else {
            connection = try await bootstrap.connect(host: address.host, port: address.port, channelInitializer: initializer)
        }
        do {
            try await connection.ready.get()
        } catch {
            connection.channel.close(promise: nil)
            throw error
        }
        return connection
    }

    /// Installs the HTTP/2 and gRPC handlers on a new connection. Runs on its event loop.
    private static func configure(
        channel: any Channel,
        id: UInt64,
        slot: Int,
        address: SwitchyardHTTP2ClientTransport.Address,
        authority: String,
        options: Options,
        onEvent: @escaping @Sendable (GRPCClientConnectionHandler.Event) -> Void
    ) throws -> GRPCClientConnection {
        let handler = GRPCClientConnectionHandler(
            settings: options.settings,
            authority: authority,
            ready: channel.eventLoop.makePromise(of: Void.self),
            logger: options.logger,
            onEvent: onEvent
        )
        let http2Handler = NIOHTTP2Handler(
            mode: .client,
            frameDelegate: handler,
            connectionConfiguration: options.http2.connection,
            streamConfiguration: options.http2.stream
        )
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(WriteCoalescingHandler())
        try pipeline.addHandler(http2Handler)
        try pipeline.addHandler(handler)
        return GRPCClientConnection(id: id, slot: slot, address: address, channel: channel, handler: handler)
    }

    /// No new calls; the connection closes once the calls on it have finished.
    func closeGracefully() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.closeGracefully() }
    }

    /// Closes now; open calls fail with UNAVAILABLE.
    func close() {
        channel.close(promise: nil)
    }

    /// Returns once the channel has closed.
    func closed() async {
        try? await channel.closeFuture.get()
    }
}
