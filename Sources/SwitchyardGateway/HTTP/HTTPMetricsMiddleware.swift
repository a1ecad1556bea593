import Hummingbird
import Metrics
import Synchronization
import SwitchyardRuntime

/// `http.server.request.duration` (seconds) per route, method and status, for every request
/// whether it succeeded or failed (the histogram's count is the request rate; the status label
/// gives the errors), and `http.server.active_requests`: the OpenTelemetry HTTP server metrics.
///
/// Hummingbird's own `MetricsMiddleware` records the duration of successful responses only,
/// so a route that fails would look fast and idle; this one records both paths. The duration
/// ends when the handler returns its response (the gateway's bodies are small, written whole).
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let timers = HTTPDurationTimers()
    private let active = Meter(label: "http.server.active_requests")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        active.increment()
        defer { active.decrement() }
        let status: Int
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            timers.record(route: context.endpointPath, method: request.method.rawValue, status: status, since: started)
            return response
        } catch {
            status = Int((error as? any HTTPResponseError)?.status.code ?? 500)
            timers.record(route: context.endpointPath, method: request.method.rawValue, status: status, since: started)
            throw error
        }
    }
}

/// One `Timer` per route, method and status, made once.
private final class HTTPDurationTimers: Sendable {
    private struct Series: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let timers = Mutex<[Series: Timer]>([:])
    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    func record(route: String?, method: String, status: Int, since started: ContinuousClock.Instant) {
        // Unmatched paths share one series: a scan of random URLs must not grow the registry.
        // Methods outside the standard set are `_OTHER`, as OpenTelemetry says, for the same reason.
        let series = Series(route: route ?? "unmatched", method: Self.knownMethods.contains(method) ? method : "_OTHER", status: status)
        let timer = timers.withLock { timers in
            if let timer = timers[series] { return timer }
            var dimensions = [("http.route", series.route), ("http.request.method", series.method), ("http.response.status_code", "\(series.status)")]
            if series.status >= 500 { dimensions.append(("error.type", "\(series.status)")) }
            let timer = Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            timers[series] = timer
            return timer
        }
        timer.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
    }
}
