package import Hummingbird
import SwitchyardRuntime

/// Gives every request a deadline at the edge. Each gRPC call the request makes inherits what
/// is left of it (`DownstreamCallPolicy`), and every server on the way passes on what is left
/// of that: the deadline shrinks at each hop instead of restarting.
package struct RequestDeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let timeout: Duration

    package init(timeout: Duration) {
        self.timeout = timeout
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await RequestDeadline.withTimeout(timeout) {
            try await next(request, context)
        }
    }
}
