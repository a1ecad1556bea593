import Metrics
import Synchronization

/// The OpenTelemetry RPC duration histograms (`rpc.server.call.duration`,
/// `rpc.client.call.duration`, in seconds) per method and status code. Each series' `Timer`
/// is made once and kept: making one goes through the metrics factory's lock and registry.
final class CallDurationMetrics: Sendable {
    private struct Series: Hashable {
        var service: String
        var method: String
        var code: String
    }

    private let label: String
    private let timers = Mutex<[Series: Timer]>([:])

    /// - Parameter label: The metric's name, e.g. `rpc.server.call.duration`.
    init(label: String) {
        self.label = label
    }

    func record(service: String, method: String, code: String, nanoseconds: Int64) {
        let series = Series(service: service, method: method, code: code)
        let timer = timers.withLock { timers in
            if let timer = timers[series] { return timer }
            let timer = Timer(
                label: label,
                dimensions: [("rpc.system", "grpc"), ("rpc.service", service), ("rpc.method", method), ("rpc.grpc.status_code", code)],
                preferredDisplayUnit: .seconds
            )
            timers[series] = timer
            return timer
        }
        timer.recordNanoseconds(nanoseconds)
    }
}


extension Duration {
    /// The duration in whole nanoseconds, saturating (what swift-metrics timers record).
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : whole &+ attoseconds / 1_000_000_000
    }
}
