package import GRPCCore
import Hummingbird
import SwitchyardRuntime

/// The one table that turns what a downstream gRPC call failed with into the HTTP answer.
///
/// | gRPC code | HTTP status |
/// |---|---|
/// | NOT_FOUND | 404 |
/// | INVALID_ARGUMENT | 400 |
/// | FAILED_PRECONDITION | 409 |
/// | RESOURCE_EXHAUSTED | 429 |
/// | UNAVAILABLE | 503 |
/// | DEADLINE_EXCEEDED | 504 |
/// | anything else | 500, with no internal detail |
///
/// Before the code, a `switchyard-error-reason` trailer may pick a more precise status: an
/// idempotency key reused with a different body is 422.
package enum HTTPStatusMapping {
    package static func apiError(for error: RPCError) -> APIError {
        if let reason = ErrorReason(of: error) {
            switch reason {
            case .idempotencyKeyReused:
                return APIError(.unprocessableContent, code: reason.rawValue, message: error.message)
            }
        }
        switch error.code {
        case .notFound:
            return APIError(.notFound, code: "NOT_FOUND", message: error.message)
        case .invalidArgument:
            return APIError(.badRequest, code: "INVALID_ARGUMENT", message: error.message)
        case .failedPrecondition:
            return APIError(.conflict, code: "FAILED_PRECONDITION", message: error.message)
        case .resourceExhausted:
            return APIError(.tooManyRequests, code: "RESOURCE_EXHAUSTED", message: error.message)
        case .unavailable:
            return APIError(.serviceUnavailable, code: "UNAVAILABLE", message: "a service this request needs is unavailable; try again")
        case .deadlineExceeded:
            return APIError(.gatewayTimeout, code: "DEADLINE_EXCEEDED", message: "the request took longer than its deadline")
        default:
            // Anything else is our fault, and its message may carry internals: say nothing.
            return .internalError
        }
    }
}
