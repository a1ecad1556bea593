import Foundation
import Hummingbird

/// Reading and writing JSON bodies with the errors a client can act on: a wrong content type
/// is 415, a body over the limit 413, malformed JSON and wrong or missing fields 400 with the
/// field's path (`lines[0].quantity`).
enum JSONBody {
    /// Decodes the request body as `T`.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, maxBytes: Int) async throws -> T {
        guard let contentType = request.headers[.contentType], Self.isJSON(contentType) else {
            throw APIError(.unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE", message: "the body must be JSON (Content-Type: application/json)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: "the body is larger than \(maxBytes) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest(Self.describe(error))
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
    }

    /// A JSON response with `status`.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return rawResponse(try encoder.encode(value), status: status, headers: headers)
    }

    /// A response whose JSON body is already written.
    static func rawResponse(_ json: some Collection<UInt8>, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields: HTTPFields
        if headers.isEmpty {
            // Copied, not built: setting a field validates its name and value every time.
            fields = jsonContentType
        } else {
            fields = headers
            fields[.contentType] = "application/json"
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    private static let jsonContentType: HTTPFields = [.contentType: "application/json"]

    private static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context):
            return "field \(path(context.codingPath)) must be \(expected(type))"
        case .valueNotFound(let type, let context):
            return "field \(path(context.codingPath)) must be \(expected(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "field \(path(context.codingPath)) has an invalid value"
        @unknown default:
            return "the body does not match the expected shape"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "(body)" : text
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int32.Type, is Int64.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        default:
            // Arrays of any element report their own array type; keyed containers a dictionary.
            return String(describing: type).hasPrefix("Array<") ? "an array" : "an object"
        }
    }
}
