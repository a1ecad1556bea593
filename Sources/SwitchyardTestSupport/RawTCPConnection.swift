import NIOCore
import NIOPosix
import Synchronization

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

/// A loopback port that was free when asked (bound, then closed), for servers a test must start
/// on a port it knows beforehand (a NATS cluster's routes, a PostgreSQL cluster) and for
/// addresses where nothing listens.
///
/// Taken below Linux's ephemeral range (32768–60999 by default), never from it: the kernel hands
/// ports in that range to every outgoing connection and to every server bound to port 0, so a
/// port picked there could be taken by one of those before the test's server binds it, or
/// rebinds it after a restart (a NATS node restarted on its port once failed with "address
/// already in use"). Ports are not handed out twice by one test process.
package func freeLoopbackPort() throws -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<32_768)
        guard HandedOutPorts.claim(port) else { continue }
        do {
            let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port)
                .wait()
            try? channel.close().wait()
            return port
        } catch {
            continue
        }
    }
    throw NoFreePort()
}

private enum HandedOutPorts {
    static let ports = Mutex<Set<Int>>([])

    /// - Returns: Whether `port` had not been handed out before.
    static func claim(_ port: Int) -> Bool {
        ports.withLock { $0.insert(port).inserted }
    }
}

/// No free loopback port below the ephemeral range after many tries.
package struct NoFreePort: Error, CustomStringConvertible {
    package var description: String { "no free loopback port found in 20000–32767" }
}
