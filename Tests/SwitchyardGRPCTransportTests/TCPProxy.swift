import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on 127.0.0.1 (port 0) to a local port, whose connections a test can cut at
/// once: the client sees its connection drop without GOAWAY or RST_STREAM, as when a server
/// process dies or the network fails, while the server behind it serves on.
final class TCPProxy: Sendable {
    let port: Int
    private let listener: any Channel
    private let connections = Mutex<[any Channel]>([])

    private init(listener: any Channel) {
        self.listener = listener
        self.port = listener.localAddress?.port ?? 0
    }

    /// Relays 127.0.0.1:`port` (the returned proxy's) to 127.0.0.1:`upstreamPort`.
    static func start(upstreamPort: Int) async throws -> TCPProxy {
        let registry = ConnectionRegistry()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMapThrowing { outbound in
                        // Both on the inbound's loop, so both pipelines can be set up here.
                        try inbound.pipeline.syncOperations.addHandler(RelayHandler(partner: outbound))
                        try outbound.pipeline.syncOperations.addHandler(RelayHandler(partner: inbound))
                        registry.add(inbound)
                        registry.add(outbound)
                    }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let proxy = TCPProxy(listener: listener)
        registry.attach(to: proxy)
        return proxy
    }

    /// Closes every relayed connection (both sides); new connections are still relayed.
    func cutAll() {
        let open = connections.withLock { connections in
            defer { connections.removeAll() }
            return connections
        }
        for channel in open { channel.close(promise: nil) }
    }

    /// Stops listening and cuts every connection.
    func close() async {
        try? await listener.close()
        cutAll()
    }

    fileprivate func add(_ channel: any Channel) {
        connections.withLock { $0.append(channel) }
    }
}

/// Collects channels accepted before the proxy object exists (it needs the bound port first).
private final class ConnectionRegistry: Sendable {
    private let state = Mutex<(proxy: TCPProxy?, pending: [any Channel])>((nil, []))

    func add(_ channel: any Channel) {
        let proxy = state.withLock { state -> TCPProxy? in
            if state.proxy == nil { state.pending.append(channel) }
            return state.proxy
        }
        proxy?.add(channel)
    }

    func attach(to proxy: TCPProxy) {
        let pending = state.withLock { state in
            state.proxy = proxy
            defer { state.pending.removeAll() }
            return state.pending
        }
        for channel in pending { proxy.add(channel) }
    }
}

/// Forwards what one side reads to the other, and closes the other when one closes.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let partner: any Channel

    init(partner: any Channel) {
        self.partner = partner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        // The accepted side reads only once its upstream is connected and this handler is in
        // place (`autoRead` is off for it): nothing it receives is lost.
        context.fireChannelActive()
        context.read()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
