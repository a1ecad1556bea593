import Logging
import NIOCore

/// One connection's inbound side: parses what the server sends, completes the handshake
/// (INFO → CONNECT + PING → PONG), answers PINGs and hands messages to the client.
final class NATSConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage {
        case awaitingInfo
        case awaitingPong(NATSServerInfo?)
        case ready
        case failed
    }

    private let client: NATSClient
    private let connectJSON: String
    private let established: EventLoopPromise<Void>
    private let logger: Logger
    private var parser = NATSProtocolParser()
    private var stage = Stage.awaitingInfo

    init(client: NATSClient, connectJSON: String, established: EventLoopPromise<Void>, logger: Logger) {
        self.client = client
        self.connectJSON = connectJSON
        self.established = established
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parser.append(unwrapInboundIn(data))
        do {
            while !isFailed, let operation = try parser.next() {
                handle(operation, context: context)
            }
        } catch {
            logger.error("NATS protocol error; closing the connection", metadata: ["error": "\(error)"])
            fail(error, context: context)
        }
    }

    private var isFailed: Bool {
        if case .failed = stage { return true }
        return false
    }

    private func handle(_ operation: NATSServerOperation, context: ChannelHandlerContext) {
        switch operation {
        case .message(let sid, let message):
            client.deliver(sid: sid, message: message)
        case .ping:
            var pong = context.channel.allocator.buffer(capacity: 6)
            NATSCommandEncoder.writePong(into: &pong)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            switch stage {
            case .awaitingPong(let info):
                stage = .ready
                client.connectionEstablished(channel: context.channel, info: info)
                established.succeed()
            case .ready:
                client.pongReceived()
            case .awaitingInfo, .failed:
                break
            }
        case .info(let json):
            let info: NATSServerInfo?
            do {
                info = try NATSServerInfo.decode(json)
            } catch {
                logger.warning("NATS INFO not understood", metadata: ["error": "\(error)"])
                info = nil
            }
            if let maxPayload = info?.maxPayload, maxPayload > 0 { parser.maxPayload = maxPayload }
            switch stage {
            case .awaitingInfo:
                stage = .awaitingPong(info)
                var hello = context.channel.allocator.buffer(capacity: connectJSON.utf8.count + 16)
                NATSCommandEncoder.writeConnect(connectJSON, into: &hello)
                NATSCommandEncoder.writePing(into: &hello)
                context.writeAndFlush(wrapOutboundOut(hello), promise: nil)
            case .ready:
                if let info { client.serverInfoUpdated(info) }
            case .awaitingPong, .failed:
                break
            }
        case .ok:
            break
        case .error(let text):
            if case .ready = stage {
                // The server closes the connection itself for fatal errors (it then reconnects);
                // others (permissions) leave it usable.
                logger.error("NATS server error", metadata: ["error": "\(text)"])
            } else {
                fail(NATSError.serverError(text), context: context)
            }
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        if case .ready = stage {} else { established.fail(error) }
        stage = .failed
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Both are no-ops when they do not apply: the promise completed, or the channel is not
        // (or no longer) the client's connection.
        established.fail(NATSError.disconnected)
        client.connectionLost(channel: context.channel, error: nil)
        stage = .failed
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { client.drainOutbound() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("NATS connection error", metadata: ["error": "\(error)"])
        fail(error, context: context)
    }
}
