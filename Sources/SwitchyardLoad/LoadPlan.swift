/// How a load run sends requests.
package enum LoadMode: Sendable, Hashable {
    /// `concurrency` workers, each sending its next request as soon as the last one answered.
    /// Measures what the server sustains; hides queueing (coordinated omission) by design.
    case closed(concurrency: Int)
    /// A fixed arrival rate, whatever the server does, with up to `maxInFlight` requests
    /// outstanding. Latency counts from when a request was due, not from when it could be sent,
    /// so a stalled server shows its stall in the percentiles (coordinated-omission correction).
    case open(ratePerSecond: Double, maxInFlight: Int)

    var workers: Int {
        switch self {
        case .closed(let concurrency): max(1, concurrency)
        case .open(_, let maxInFlight): max(1, maxInFlight)
        }
    }
}

/// When a load run stops: after a time, or after a number of requests.
package enum LoadLimit: Sendable, Hashable {
    case duration(Duration)
    case count(Int)
}

/// A complete description of one run.
package struct LoadPlan: Sendable, Hashable {
    package var mode: LoadMode
    package var limit: LoadLimit
    /// Sent before measuring and not recorded: connections warm, caches filled.
    package var warmup: Duration

    package init(mode: LoadMode, limit: LoadLimit, warmup: Duration = .zero) {
        self.mode = mode
        self.limit = limit
        self.warmup = warmup
    }
}
