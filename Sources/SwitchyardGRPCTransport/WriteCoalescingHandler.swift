import NIOCore

/// Copies the small buffers NIOHTTP2Handler writes (a frame header, a HEADERS block, a short
/// DATA payload: four per unary response) into one buffer per flush.
///
/// Without it the socket gets hundreds of tiny writes per flush under load, each with its own
/// pending-write bookkeeping and iovec; a copy of a few dozen bytes is cheaper. Writes that
/// carry a promise or are large pass through unchanged, after whatever was gathered before
/// them, so order and completion are exactly as without this handler.
final class WriteCoalescingHandler: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Buffers up to this size are copied; larger ones are written as they are.
    static let copyLimit = 1024

    private var gathered: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let io = unwrapOutboundIn(data)
        guard promise == nil, case .byteBuffer(let buffer) = io, buffer.readableBytes <= Self.copyLimit else {
            writeGathered(context: context)
            context.write(data, promise: promise)
            return
        }
        if var gathered {
            // Drop the stored copy first so the append does not copy the storage.
            self.gathered = nil
            gathered.writeImmutableBuffer(buffer)
            self.gathered = gathered
        } else {
            var fresh = context.channel.allocator.buffer(capacity: 4096)
            fresh.writeImmutableBuffer(buffer)
            gathered = fresh
        }
    }

    func flush(context: ChannelHandlerContext) {
        writeGathered(context: context)
        context.flush()
    }

    private func writeGathered(context: ChannelHandlerContext) {
        guard let gathered else { return }
        self.gathered = nil
        context.write(wrapOutboundOut(.byteBuffer(gathered)), promise: nil)
    }
}
