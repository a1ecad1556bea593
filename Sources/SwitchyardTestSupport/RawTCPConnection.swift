import NIOCore
import NIOPosix

/// A plain TCP connection to 127.0.0.1 for putting bytes on a port that no protocol library
/// would send: random garbage, half an HTTP/2 preface.
package struct RawTCPConnection {
    /// What the server did with the connection.
    package enum Outcome: Sendable, Equatable {
        /// The server closed it (EOF or reset), having sent this many bytes first.
        case closedByServer(bytesReceived: Int)
        /// Still open when the deadline passed.
        case stillOpen
    }

    /// Connects, sends `bytes`, optionally half-closes our side, then reads until the server
    /// closes the connection or `timeout` passes.
    package static func send(
        _ bytes: [UInt8],
        toPort port: Int,
        halfCloseAfterSending: Bool = false,
        timeout: Duration = .seconds(10)
    ) async throws -> Outcome {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)
                    )
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            if halfCloseAfterSending { outbound.finish() }
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    var received = 0
                    do {
                        for try await buffer in inbound { received += buffer.readableBytes }
                    } catch {
                        // A reset is the server closing too.
                    }
                    return .closedByServer(bytesReceived: received)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .stillOpen
                }
                let first = try await group.next() ?? .stillOpen
                group.cancelAll()
                return first
            }
        }
    }
}

/// A loopback port that was free when asked (bound, read, closed), for tests that need an
/// address where nothing listens.
package func freeLoopbackPort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0)
        .wait()
    defer { try? channel.close().wait() }
    return channel.localAddress?.port ?? 0
}
