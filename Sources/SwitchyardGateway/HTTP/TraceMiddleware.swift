import HTTPTypes
import Hummingbird
import Instrumentation
import SwitchyardRuntime
import Tracing

/// The request's server span at the edge, where every trace of the system starts (or
/// continues a caller's `traceparent`): named `<method> <route>` (`POST /orders`) with the
/// OpenTelemetry HTTP server attributes, and told to the caller in a `traceresponse` header
/// (W3C Trace Context Level 2, the `traceparent` format), error responses included, so
/// `switchyard trace <trace-id>` finds any request.
///
/// Our own rather than Hummingbird's `TracingMiddleware`: that one records a dozen attributes
/// per request (query, user agent, peer address, …) and cost a measurable share of the
/// gateway's time, and it cannot put the trace on error responses.
struct GatewayTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Read once: servers are made after the process bootstrapped its tracer.
    let spans = SpanStarter()
    let entryPoint = InstrumentationContext.entryPoint(of: "gateway")
    let routes = SpanDetailsCache.routes()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let method = request.method.rawValue
        let span = spans.start(method, continuing: IncomingTraceHeaders(request.headers), from: entryPoint, ofKind: .server)
        if span.isRecording { span.setAttribute("url.path", .string(request.uri.path)) }
        var response: Response
        do {
            response = try await InstrumentationContext.$current.withValue(span.context) { try await next(request, context) }
        } catch let error as any HTTPResponseError {
            // Answered here rather than by the server, so the error carries the trace too.
            response = try error.response(from: request, context: context)
            if error.status.code >= 500 { span.recordError(error) }
        } catch {
            finish(span, route: context.endpointPath, method: method, status: 500)
            span.recordError(error)
            throw error
        }
        finish(span, route: context.endpointPath, method: method, status: Int(response.status.code))
        span.injectTraceHeaders(into: &response.headers, using: TraceResponseInjector(), tracer: spans.tracer)
        return response
    }

    private func finish(_ span: TracedSpan, route: String?, method: String, status: Int) {
        // With tracing off the span records nothing: its name and attributes are not worth building.
        if span.isRecording {
            if let route {
                // The status is one of the shared attributes: a route answers a few statuses,
                // and the span then stores no attribute of its own for it.
                let details = routes.details(of: RouteKey(method: method, route: route, status: status))
                span.setOperationName(details.spanName)
                span.setAttributes(details.attributes)
            } else {
                span.setAttribute("http.request.method", .string(method))
                span.setAttribute("http.response.status_code", .int64(Int64(status)))
            }
            if status >= 500 { span.setStatus(SpanStatus(code: .error, message: "HTTP \(status)")) }
        }
        span.end()
    }
}

/// A request's method and route, which name its span, and the status it was answered with.
struct RouteKey: Hashable, Sendable {
    let method: String
    let route: String
    let status: Int
}

extension SpanDetailsCache where Key == RouteKey {
    /// Each route's span name (`GET /orders`) and its `http.request.method`, `http.route` and
    /// `http.response.status_code`, per status answered.
    static func routes() -> SpanDetailsCache<RouteKey> {
        SpanDetailsCache { key in
            SpanDetails(
                spanName: "\(key.method) \(key.route)",
                attributes: SharedSpanAttributes([
                    "http.request.method": .string(key.method), "http.route": .string(key.route),
                    "http.response.status_code": .int64(Int64(key.status)),
                ])
            )
        }
    }
}

extension IncomingTraceHeaders {
    /// Made once: making a field name validates it.
    private static let traceparentName = HTTPField.Name(TraceHeaders.traceparent)
    private static let tracestateName = HTTPField.Name(TraceHeaders.tracestate)

    /// The W3C trace headers of an HTTP request.
    init(_ fields: HTTPFields) {
        self.init(
            traceparent: Self.traceparentName.flatMap { fields[$0] },
            tracestate: Self.tracestateName.flatMap { fields[$0] }
        )
    }
}

/// Writes the span's `traceparent` as the response's `traceresponse`.
struct TraceResponseInjector: Injector {
    static let traceresponse = HTTPField.Name("traceresponse")

    func inject(_ value: String, forKey key: String, into carrier: inout HTTPFields) {
        guard key == TraceHeaders.traceparent, let name = Self.traceresponse else { return }
        // Appended, not set: a handler has no reason to write this header, and setting scans
        // and rebuilds the fields.
        carrier.append(HTTPField(name: name, value: value))
    }
}
