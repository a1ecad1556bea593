import NIOCore

/// One side of a call whose incoming parts (request parts on the server, response parts on the
/// client) are buffered on the connection's event loop. Both stream types conform, so one
/// `AsyncSequence` serves them.
protocol LoopBoundPartSource: AnyObject, Sendable {
    associatedtype Part: Sendable

    var eventLoop: any EventLoop { get }
    /// The next part if one is ready, else `nil` with `isReady == false`. On the loop only.
    func nextPartIfReady() throws -> (part: Part?, isReady: Bool)
    /// Resumes `continuation` with the next part (or `nil` at the end) when there is one. On the
    /// loop only.
    func waitForNextPart(_ continuation: UnsafeContinuation<Part?, any Error>)
    /// The reading task was cancelled while it waited. On the loop only.
    func readerCancelled()
}

/// The incoming parts of one call, as grpc-swift reads them: taken straight from the buffer
/// when the reader is on the loop and a part is there (no suspension), otherwise awaited with
/// one hop to the loop.
struct LoopBoundPartSequence<Source: LoopBoundPartSource>: AsyncSequence, Sendable {
    typealias Element = Source.Part
    typealias Failure = any Error

    let stream: Source

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: stream) }

    struct AsyncIterator: AsyncIteratorProtocol {
        let stream: Source

        mutating func next() async throws -> Element? {
            try await next(isolation: nil)
        }

        mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Element? {
            let stream = self.stream
            if stream.eventLoop.inEventLoop {
                let (part, isReady) = try stream.nextPartIfReady()
                if isReady { return part }
            }
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { continuation in
                    if stream.eventLoop.inEventLoop {
                        stream.waitForNextPart(continuation)
                    } else {
                        stream.eventLoop.execute { stream.waitForNextPart(continuation) }
                    }
                }
            } onCancel: {
                stream.eventLoop.execute { stream.readerCancelled() }
            }
        }
    }
}
