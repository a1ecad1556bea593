import Foundation
import Histogram

/// Turns results into the lines people and scripts read.
package enum LoadReport {
    /// One summary line, in the bench tools' format: `rps=… p50_us=… p90_us=… p99_us=…
    /// p999_us=… max_us=… ok=… errors=…`.
    package static func line(_ result: LoadResult) -> String {
        let s = result.sample
        let line = String(
            format: "rps=%.1f p50_us=%llu p90_us=%llu p99_us=%llu p999_us=%llu max_us=%llu ok=%llu errors=%llu",
            result.rate, s.microseconds(atPercentile: 50), s.microseconds(atPercentile: 90), s.microseconds(atPercentile: 99),
            s.microseconds(atPercentile: 99.9), s.histogram.max, result.requests, result.errors
        )
        return s.firstError.map { line + " first_error=\"\($0)\"" } ?? line
    }

    /// The result as a JSON object, for scripts.
    package static func json(_ result: LoadResult, extra: [String: Any] = [:]) -> String {
        let s = result.sample
        var object: [String: Any] = [
            "target": result.target,
            "requests": result.requests,
            "errors": result.errors,
            "seconds": Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) / 1e18,
            "rate": (result.rate * 10).rounded() / 10,
            "latencyMicroseconds": [
                "p50": s.microseconds(atPercentile: 50),
                "p90": s.microseconds(atPercentile: 90),
                "p99": s.microseconds(atPercentile: 99),
                "p999": s.microseconds(atPercentile: 99.9),
                "max": s.histogram.max,
                "mean": (s.histogram.mean * 10).rounded() / 10,
            ],
        ]
        if let firstError = s.firstError { object["firstError"] = firstError }
        switch result.plan.mode {
        case .closed(let concurrency):
            object["mode"] = "closed"
            object["concurrency"] = concurrency
        case .open(let rate, let maxInFlight):
            object["mode"] = "open"
            object["targetRate"] = rate
            object["maxInFlight"] = maxInFlight
        }
        object.merge(extra) { _, new in new }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A progress line: rate so far, errors, p99 so far.
    package static func progress(_ progress: LoadProgress) -> String {
        let seconds = Double(progress.elapsed.components.seconds) + Double(progress.elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(progress.sample.count) / seconds : 0
        return String(
            format: "%6.1fs  %10.1f req/s  errors=%llu  p99_us=%llu",
            seconds, rate, progress.sample.errors, progress.sample.microseconds(atPercentile: 99)
        )
    }
}
