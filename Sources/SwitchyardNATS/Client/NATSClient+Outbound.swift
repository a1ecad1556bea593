import NIOCore
import Synchronization

extension NATSClient {
    /// Appends operations to the outbound buffer and makes sure a drain is queued.
    /// - Parameters:
    ///   - reserving: Roughly the bytes `write` adds, checked against the pending limit.
    ///   - messageSize: A publish's headers + payload, checked against the server's max_payload
    ///     (in the same critical section as the append, so a publish takes the lock once).
    ///   - pongWaiter: Registered in wire order when `write` writes a PING.
    func enqueue(
        reserving bytes: Int,
        messageSize: Int? = nil,
        pongWaiter: OutboundState.PongWaiter? = nil,
        _ write: (inout ByteBuffer) throws(NATSError) -> Void
    ) throws(NATSError) {
        let limit = options.maxPendingOutboundBytes
        let scheduleDrain = try outbound.withLock { state throws(NATSError) -> Bool in
            if state.isClosed { throw NATSError.connectionClosed }
            if let messageSize, messageSize > state.maxPayload {
                throw NATSError.payloadTooLarge(size: messageSize, limit: state.maxPayload)
            }
            guard state.buffer.readableBytes + bytes <= limit else { throw NATSError.outboundBufferFull(limit: limit) }
            try write(&state.buffer)
            if let pongWaiter { state.pongWaitersInBuffer.append(pongWaiter) }
            guard !state.flushScheduled, state.connectedChannel != nil else { return false }
            state.flushScheduled = true
            return true
        }
        if scheduleDrain {
            eventLoop.execute { self.drainOutbound() }
        }
    }

    /// PUB/HPUB with subjects already validated.
    func enqueuePublish(subject: String, reply: NATSCommandEncoder.ReplySubject?, headers: NATSHeaders?, payload: ByteBuffer) throws(NATSError) {
        let messageSize = payload.readableBytes + (headers?.encodedLength ?? 0)
        try enqueue(reserving: messageSize + subject.utf8.count + 96, messageSize: messageSize) { buffer throws(NATSError) in
            try NATSCommandEncoder.writeValidatedPublish(subject: subject, reply: reply, headers: headers, payload: payload, into: &buffer)
        }
    }

    /// Hands the outbound buffer to the channel (on the event loop). Leaves it queued while the
    /// client is not connected or the socket is backed up (`channelWritabilityChanged` calls
    /// again).
    func drainOutbound() {
        let work = outbound.withLock { state -> (any Channel, ByteBuffer, [CheckedContinuation<Void, any Error>])? in
            state.flushScheduled = false
            guard let channel = state.connectedChannel, channel.isWritable, state.buffer.readableBytes > 0 else { return nil }
            let pending = state.buffer
            // A fresh buffer, not `clear()`: the old storage now belongs to the channel's write.
            let capacity = min(max(pending.readableBytes, 16 * 1024), 1024 * 1024)
            state.buffer = channel.allocator.buffer(capacity: capacity)
            for waiter in state.pongWaitersInBuffer { state.pongWaitersOnWire.append(waiter) }
            state.pongWaitersInBuffer.removeAll(keepingCapacity: true)
            let waiters = state.capacityWaiters
            state.capacityWaiters = []
            return (channel, pending, waiters)
        }
        guard let (channel, pending, waiters) = work else { return }
        channel.writeAndFlush(pending, promise: nil)
        for waiter in waiters { waiter.resume() }
    }

    /// Suspends while the outbound buffer holds more than half of
    /// `maxPendingOutboundBytes` (the socket is slow, or the client is reconnecting), so a
    /// fast publisher can pace itself instead of hitting `NATSError.outboundBufferFull`.
    package func waitForOutboundCapacity() async throws {
        let threshold = options.maxPendingOutboundBytes / 2
        if outbound.withLock({ $0.buffer.readableBytes <= threshold && !$0.isClosed }) { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, NATSError>? = outbound.withLock { state in
                if state.isClosed { return .failure(.connectionClosed) }
                if state.buffer.readableBytes <= threshold { return .success(()) }
                state.capacityWaiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// A PONG for one of our PINGs (after the handshake).
    func pongReceived() {
        let waiter = outbound.withLock { state -> OutboundState.PongWaiter? in
            state.outstandingKeepalives = 0
            return state.pongWaitersOnWire.popFirst()
        }
        if case .flush(let promise) = waiter { promise.succeed() }
    }
}
