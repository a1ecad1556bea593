package import Hummingbird
import NIOCore
import SwitchyardRuntime

/// An error the gateway answers with: an HTTP status and the JSON body every non-2xx response
/// carries, `{"error": {"code": "...", "message": "..."}}`.
package struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    package var status: HTTPResponse.Status
    /// A stable, machine-readable code (e.g. `NOT_FOUND`, `IDEMPOTENCY_KEY_REUSED`).
    package var code: String
    /// For people; never internal detail.
    package var message: String

    package init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var headers: HTTPFields { [.contentType: "application/json; charset=utf-8"] }

    package func body(allocator: ByteBufferAllocator) -> ByteBuffer? {
        var json = #"{"error":{"code":"#
        JSONText.appendQuoted(code, to: &json)
        json += #","message":"#
        JSONText.appendQuoted(message, to: &json)
        json += "}}"
        return allocator.buffer(string: json)
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response(status: status, headers: headers)
        if let body = body(allocator: ByteBufferAllocator()) { response.body = .init(byteBuffer: body) }
        return response
    }

    // MARK: - The errors the gateway itself raises

    package static func badRequest(_ message: String) -> APIError { APIError(.badRequest, code: "INVALID_ARGUMENT", message: message) }
    package static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "NOT_FOUND", message: message) }
    package static let internalError = APIError(.internalServerError, code: "INTERNAL", message: "internal error")
}
