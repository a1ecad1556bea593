import GRPCCore
package import Hummingbird
package import Logging

/// Makes every failure a JSON error response: downstream `RPCError`s through
/// `HTTPStatusMapping`, Hummingbird's own errors (unknown route 404, body too large 413, …)
/// with their status, and anything unexpected as a bare 500 whose detail goes only to the log.
package struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as RPCError {
            let mapped = HTTPStatusMapping.apiError(for: error)
            if mapped.status == .internalServerError {
                logger.error("downstream failed", metadata: ["switchyard.rpc.code": "\(error.code)", "switchyard.error": "\(error.message)"])
            }
            throw mapped
        } catch let error as HTTPError {
            throw APIError(error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        } catch {
            logger.error("request failed unexpectedly", metadata: ["switchyard.error": "\(String(reflecting: error))"])
            throw APIError.internalError
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "NOT_FOUND"
        case .methodNotAllowed: "METHOD_NOT_ALLOWED"
        case .contentTooLarge: "PAYLOAD_TOO_LARGE"
        case .unsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE"
        case .badRequest: "INVALID_ARGUMENT"
        case .requestTimeout: "REQUEST_TIMEOUT"
        default: status.code >= 500 ? "INTERNAL" : "HTTP_\(status.code)"
        }
    }
}
