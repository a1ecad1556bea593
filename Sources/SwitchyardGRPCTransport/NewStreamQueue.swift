import NIOCore

/// The calls a connection handler accepts, handed to the connection's task.
///
/// `AsyncStream` would do, but it locks and allocates on every element and shows up in
/// profiles; both ends of this queue live on one event loop, so a plain buffer and one
/// continuation suffice.
// @unchecked: `buffer`, `waiter` and `isFinished` are only touched on `eventLoop`.
final class NewStreamQueue: AsyncSequence, @unchecked Sendable {  // unchecked: state confined to `eventLoop`
    typealias Element = GRPCServerStream

    private let eventLoop: any EventLoop
    private var buffer = CircularBuffer<GRPCServerStream>(initialCapacity: 16)
    private var waiter: UnsafeContinuation<GRPCServerStream?, Never>?
    private var isFinished = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Adds a call. On the loop only.
    func yield(_ stream: GRPCServerStream) {
        guard !isFinished else { return }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: stream)
        } else {
            buffer.append(stream)
        }
    }

    /// No more calls: the consumer gets what is buffered, then the end. On the loop only.
    func finish() {
        guard !isFinished else { return }
        isFinished = true
        if let waiter, buffer.isEmpty {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    private func next(_ continuation: UnsafeContinuation<GRPCServerStream?, Never>) {
        if let stream = buffer.popFirst() {
            continuation.resume(returning: stream)
        } else if isFinished {
            continuation.resume(returning: nil)
        } else {
            waiter = continuation
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }

    /// Ends when the queue is finished; the connection finishes it when the channel closes,
    /// which is also what cancelling the connection's task causes.
    struct AsyncIterator: AsyncIteratorProtocol {
        let queue: NewStreamQueue

        mutating func next() async -> GRPCServerStream? {
            let queue = self.queue
            if queue.eventLoop.inEventLoop, let stream = queue.buffer.popFirst() {
                return stream
            }
            return await withUnsafeContinuation { continuation in
                if queue.eventLoop.inEventLoop {
                    queue.next(continuation)
                } else {
                    queue.eventLoop.execute { queue.next(continuation) }
                }
            }
        }
    }
}
