package import Hummingbird
import NIOCore

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

/// JSON string escaping, for the few bodies written by hand on hot or error paths.
package enum JSONText {
    package static func appendQuoted(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }
}
