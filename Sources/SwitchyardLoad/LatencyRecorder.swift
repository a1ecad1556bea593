package import Histogram
import Synchronization

/// Latencies in microseconds, in an HdrHistogram (3 significant digits, up to an hour), with
/// the error count beside them. Each worker owns one, so recording never contends; the
/// reporter and the final result merge them.
package struct LatencySample: Sendable {
    package private(set) var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    package private(set) var errors: UInt64 = 0
    /// What the first failed request threw, so a run full of errors says why.
    package private(set) var firstError: String?

    package init() {}

    /// Records one successful request's latency.
    package mutating func record(_ latency: Duration) {
        _ = histogram.record(Self.microseconds(latency))
    }

    package mutating func recordError(_ error: (any Error)? = nil) {
        errors += 1
        if firstError == nil, let error { firstError = "\(error)" }
    }

    /// Adds everything `other` recorded.
    package mutating func merge(_ other: LatencySample) {
        histogram.add(other.histogram)
        errors += other.errors
        firstError = firstError ?? other.firstError
    }

    package var count: UInt64 { histogram.totalCount }

    /// The latency at `percentile` (0...100), in microseconds.
    package func microseconds(atPercentile percentile: Double) -> UInt64 {
        histogram.totalCount == 0 ? 0 : histogram.valueAtPercentile(percentile)
    }

    /// Whole microseconds, at least 1 (the histogram's lowest value), clamped to its range.
    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        let micros = UInt64(seconds) &* 1_000_000 &+ UInt64(attoseconds / 1_000_000_000_000)
        return min(max(micros, 1), 3_600_000_000)
    }
}

/// One worker's sample behind a lock, so the progress reporter can read it while the worker
/// records (uncontended but for that once-a-second read).
final class LatencyRecorder: Sendable {
    private let sample = Mutex(LatencySample())

    func record(_ latency: Duration) { sample.withLock { $0.record(latency) } }
    func recordError(_ error: any Error) { sample.withLock { $0.recordError(error) } }
    func reset() { sample.withLock { $0 = LatencySample() } }
    var snapshot: LatencySample { sample.withLock { $0 } }
}
