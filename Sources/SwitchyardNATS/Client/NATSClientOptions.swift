package import NIOCore

/// How a `NATSClient` connects, reconnects and buffers.
package struct NATSClientOptions: Sendable {
    /// Sent in CONNECT; shows in the server's connection list.
    package var name: String?
    /// For one TCP connect plus the INFO/CONNECT/PONG handshake.
    package var connectTimeout: Duration = .seconds(5)
    /// The wait before reconnecting grows from `initial` to `maximum`, doubling per failed round
    /// over the server list, each wait varied by ±`jitter` (a fraction) so clients of a restarted
    /// server do not all come back at once.
    package var reconnectBackoff = ReconnectBackoff()
    /// Failed connection attempts in a row before the client gives up and closes; `nil` retries forever.
    package var maxReconnectAttempts: Int? = nil
    /// How often the client PINGs the server, and how many PINGs may go unanswered before the
    /// connection counts as dead and is replaced.
    package var pingInterval: Duration = .seconds(30)
    package var maxOutstandingPings = 2
    /// Bytes of outbound operations the client holds (waiting for the socket, or for a reconnect)
    /// before `publish` throws `NATSError.outboundBufferFull`.
    package var maxPendingOutboundBytes = 64 * 1024 * 1024
    /// Messages a subscription queues for a slow reader before it drops (and logs) new ones.
    package var subscriptionPendingLimit = 512 * 1024
    /// Where the connection runs; the shared NIO singleton when `nil`.
    package var eventLoopGroup: (any EventLoopGroup)?

    package init(name: String? = nil) {
        self.name = name
    }

    package struct ReconnectBackoff: Sendable {
        package var initial: Duration
        package var maximum: Duration
        package var jitter: Double

        package init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2), jitter: Double = 0.2) {
            self.initial = initial
            self.maximum = maximum
            self.jitter = jitter
        }

        /// The wait before attempt `attempt` (0-based) of a reconnect, `serverCount` servers known.
        /// The first attempt of each round goes straight to the next server when there are others.
        func delay(attempt: Int, serverCount: Int) -> Duration {
            if attempt == 0 && serverCount > 1 { return .zero }
            let round = serverCount > 0 ? attempt / serverCount : attempt
            let factor = Double(1 << min(round, 20))
            let base = min(Double(initial.nanoseconds) * factor, Double(maximum.nanoseconds))
            let spread = base * max(0, min(jitter, 1))
            let nanos = base + Double.random(in: -spread...spread)
            return .nanoseconds(Int64(max(0, nanos)))
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : product + attoseconds / 1_000_000_000
    }

    var timeAmount: TimeAmount { .nanoseconds(nanoseconds) }
}
