import HTTPTypes
import Hummingbird
import Instrumentation
import SwitchyardRuntime

/// Marks everything a request does as the gateway's work, before Hummingbird's
/// `TracingMiddleware` starts the request's server span from the current context.
struct GatewayServiceContextMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await InstrumentationContext.$current.withValue(.forService("gateway")) {
            try await next(request, context)
        }
    }
}

/// Tells the caller which trace its request made: `traceresponse` (W3C Trace Context Level 2,
/// the `traceparent` format), so `switchyard trace <trace-id>` finds it.
struct TraceResponseMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let traceparent = TraceHeaders.current()[TraceHeaders.traceparent], let name = HTTPField.Name("traceresponse") {
            response.headers[name] = traceparent
        }
        return response
    }
}
