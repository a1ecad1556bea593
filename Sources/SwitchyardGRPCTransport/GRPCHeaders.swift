import GRPCCore
import NIOHPACK

/// Building and reading the HTTP/2 header blocks of the gRPC protocol
/// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
enum GRPCHeaders {
    /// Response headers with no custom metadata: the common case, built once.
    static let plainResponseHeaders: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]

    /// Trailers of a successful call with no trailing metadata: the common case, built once.
    static let okTrailers: HPACKHeaders = ["grpc-status": "0"]

    /// `:status 200`, `content-type` and `metadata`.
    static func responseHeaders(metadata: Metadata) -> HPACKHeaders {
        if metadata.isEmpty { return plainResponseHeaders }
        var headers = plainResponseHeaders
        headers.reserveCapacity(2 + metadata.count)
        append(metadata, to: &headers)
        return headers
    }

    /// The trailers that end a call: `grpc-status`, a percent-encoded `grpc-message` when there
    /// is one, and `metadata`. A trailers-only response (nothing sent before) also carries
    /// `:status` and `content-type`.
    static func trailers(status: Status, metadata: Metadata, trailersOnly: Bool) -> HPACKHeaders {
        if !trailersOnly, status.code == .ok, status.message.isEmpty, metadata.isEmpty {
            return okTrailers
        }
        var headers: HPACKHeaders = trailersOnly ? plainResponseHeaders : [:]
        headers.reserveCapacity(headers.count + 2 + metadata.count)
        headers.add(name: "grpc-status", value: String(status.code.rawValue))
        if !status.message.isEmpty {
            headers.add(name: "grpc-message", value: percentEncoded(status.message))
        }
        append(metadata, to: &headers)
        return headers
    }

    /// A trailers-only rejection of a request that never reached a handler.
    static func rejection(_ code: Status.Code, _ message: String) -> HPACKHeaders {
        trailers(status: Status(code: code, message: message), metadata: [:], trailersOnly: true)
    }

    /// A bare HTTP response for requests that are not gRPC at all (wrong method or content type).
    static func httpError(status: Int) -> HPACKHeaders {
        [":status": String(status)]
    }

    private static func append(_ metadata: Metadata, to headers: inout HPACKHeaders) {
        for (key, value) in metadata {
            // HTTP/2 field names are lower case; binary values travel base64 encoded.
            let name = lowercasedFieldName(key)
            switch value {
            case .string(let string):
                headers.add(name: name, value: string)
            case .binary(let bytes):
                headers.add(name: name, value: Base64.encode(bytes))
            }
        }
    }

    static let timeoutHeader = "grpc-timeout"

    /// Every request header as metadata, as grpc-swift's own transport passes them (pseudo
    /// headers included), with `-bin` values base64-decoded, except that `grpc-timeout` is
    /// passed as `switchyard-grpc-timeout`: this transport enforces the deadline itself, and
    /// grpc-swift would otherwise start a second, costlier timer for it.
    static func metadata(from headers: HPACKHeaders) -> Metadata {
        var metadata = Metadata()
        metadata.reserveCapacity(headers.count)
        for (name, value, _) in headers {
            // A byte-wise suffix test: String.hasSuffix compares grapheme clusters.
            if name.utf8.count > 4, name.utf8.reversed().starts(with: "nib-".utf8), let bytes = Base64.decode(value) {
                metadata.addBinary(bytes, forKey: name)
            } else if name == timeoutHeader {
                metadata.addString(value, forKey: SwitchyardHTTP2ServerTransport.deadlineMetadataKey)
            } else {
                metadata.addString(value, forKey: name)
            }
        }
        return metadata
    }

    /// Whether `value` is a gRPC content type: `application/grpc` or `application/grpc+<codec>`
    /// (`application/grpc;...` parameters are tolerated as grpc-go does).
    static func isGRPCContentType(_ value: String) -> Bool {
        let prefix = "application/grpc"
        guard value.utf8.count >= prefix.utf8.count, value.utf8.starts(with: prefix.utf8) else { return false }
        let rest = value.utf8.dropFirst(prefix.utf8.count)
        guard let next = rest.first else { return true }
        return next == UInt8(ascii: "+") || next == UInt8(ascii: ";")
    }

    /// `/package.Service/Method` as a descriptor; `nil` for any other shape.
    static func methodDescriptor(path: String) -> MethodDescriptor? {
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        let afterSlash = utf8.index(after: utf8.startIndex)
        guard let separator = utf8[afterSlash...].firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let methodStart = utf8.index(after: separator)
        guard separator > afterSlash, methodStart < utf8.endIndex,
            utf8[methodStart...].firstIndex(of: UInt8(ascii: "/")) == nil,
            let service = String(utf8[afterSlash..<separator]),
            let method = String(utf8[methodStart...])
        else { return nil }
        return MethodDescriptor(fullyQualifiedService: service, method: method)
    }

    // MARK: Client side

    /// The header block that opens a call: pseudo-headers first (RFC 9113 §8.3), then
    /// `content-type`, `te` and the caller's metadata (names lowercased, `-bin` values base64).
    /// `timeout` becomes `grpc-timeout` unless the metadata already carries one (grpc-swift's
    /// executor puts the remaining time there itself).
    static func requestHeaders(path: String, authority: String, metadata: Metadata, timeout: Duration?) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(7 + metadata.count)
        headers.add(name: ":method", value: "POST")
        headers.add(name: ":scheme", value: "http")
        headers.add(name: ":path", value: path)
        headers.add(name: ":authority", value: authority)
        headers.add(name: "content-type", value: "application/grpc")
        headers.add(name: "te", value: "trailers")
        var sawTimeout = false
        for (key, value) in metadata {
            let name = lowercasedFieldName(key)
            if name == timeoutHeader { sawTimeout = true }
            let indexing = indexing(of: name)
            switch value {
            case .string(let string):
                headers.add(name: name, value: string, indexing: indexing)
            case .binary(let bytes):
                headers.add(name: name, value: Base64.encode(bytes, padded: true), indexing: indexing)
            }
        }
        if !sawTimeout, let timeout {
            headers.add(name: timeoutHeader, value: GRPCTimeout.encode(timeout), indexing: .nonIndexable)
        }
        return headers
    }

    /// Values that differ on every call (the deadline, the caller's trace) are sent without
    /// entering HPACK's dynamic table: indexing them would only evict the entries that repeat
    /// (path, authority, user agent), so each call would send those in full again.
    static func indexing(of name: String) -> HPACKIndexing {
        switch name {
        case timeoutHeader, "traceparent", "tracestate": .nonIndexable
        default: .indexable
        }
    }

    /// What the first header block of a response means to a client.
    enum ResponseHead {
        /// Response headers: messages and trailers follow.
        case metadata(Metadata)
        /// A trailers-only response, or a response that is not gRPC at all (mapped to a status
        /// as https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md says).
        case status(Status, Metadata)
        /// An informational (1xx) response: the real one follows.
        case informational
    }

    /// Reads the first header block of a response, as grpc-swift's own transport does: a
    /// non-200 `:status` without `grpc-status` becomes the mapped code, a missing gRPC
    /// content type is INTERNAL, and compression (which this client never offers) is INTERNAL.
    static func responseHead(_ headers: HPACKHeaders, endStream: Bool) -> ResponseHead {
        var httpStatus: String?
        var contentType: String?
        var grpcStatus: String?
        var encoding: String?
        for (name, value, _) in headers {
            switch name {
            case ":status": httpStatus = value
            case "content-type": contentType = value
            case "grpc-status": grpcStatus = value
            case "grpc-encoding": encoding = value
            default: break
            }
        }
        if httpStatus != "200", grpcStatus == nil {
            guard let code = httpStatus.flatMap({ Int($0) }) else {
                return .status(Status(code: .unknown, message: "HTTP status code is missing."), responseMetadata(headers))
            }
            if (100...199).contains(code) { return .informational }
            return .status(
                Status(code: statusCode(httpStatus: code), message: "Unexpected non-200 HTTP Status Code (\(code))."),
                responseMetadata(headers)
            )
        }
        guard let contentType, isGRPCContentType(contentType) else {
            return .status(Status(code: .internalError, message: "Missing content-type header"), responseMetadata(headers))
        }
        if endStream {
            let (status, metadata) = trailers(headers)
            return .status(status, metadata)
        }
        if let encoding, encoding != "identity" {
            return .status(
                Status(code: .internalError, message: "The server picked a compression algorithm ('\(encoding)') the client does not know about."),
                responseMetadata(headers)
            )
        }
        return .metadata(responseMetadata(headers))
    }

    /// The status the trailers carry (percent-decoded message) and the rest of them as metadata.
    /// Missing or malformed `grpc-status` is UNKNOWN, as gRPC specifies.
    static func trailers(_ headers: HPACKHeaders) -> (Status, Metadata) {
        var statusValue: String?
        var message: String?
        var metadata = Metadata()
        metadata.reserveCapacity(headers.count)
        for (name, value, _) in headers {
            switch name {
            case "grpc-status":
                if statusValue == nil { statusValue = value }
            case "grpc-message":
                if message == nil { message = value }
            default:
                addMetadata(name: name, value: value, to: &metadata)
            }
        }
        let status: Status
        if let code = statusValue.flatMap({ Int($0) }).flatMap({ Status.Code(rawValue: $0) }) {
            status = Status(code: code, message: message.map(percentDecoded) ?? "")
        } else if let statusValue {
            status = Status(code: .unknown, message: "Invalid 'grpc-status' in trailers (\(statusValue))")
        } else {
            status = Status(code: .unknown, message: "No 'grpc-status' value in trailers")
        }
        return (status, metadata)
    }

    /// Every header of a response block as metadata (pseudo-headers included, as grpc-swift's
    /// transport passes them), `-bin` values base64-decoded.
    static func responseMetadata(_ headers: HPACKHeaders) -> Metadata {
        var metadata = Metadata()
        metadata.reserveCapacity(headers.count)
        for (name, value, _) in headers {
            addMetadata(name: name, value: value, to: &metadata)
        }
        return metadata
    }

    private static func addMetadata(name: String, value: String, to metadata: inout Metadata) {
        // A byte-wise suffix test: String.hasSuffix compares grapheme clusters.
        if name.utf8.count > 4, name.utf8.reversed().starts(with: "nib-".utf8), let bytes = Base64.decode(value) {
            metadata.addBinary(bytes, forKey: name)
        } else {
            metadata.addString(value, forKey: name)
        }
    }

    /// The gRPC code for an HTTP status that came without `grpc-status`.
    static func statusCode(httpStatus: Int) -> Status.Code {
        switch httpStatus {
        case 400: return .internalError
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .unimplemented
        case 429, 502, 503, 504: return .unavailable
        default: return .unknown
        }
    }

    /// The inverse of `percentEncoded`: `%XX` becomes the byte; anything malformed stays as sent.
    static func percentDecoded(_ message: String) -> String {
        guard message.utf8.contains(UInt8(ascii: "%")) else { return message }
        let input = Array(message.utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `grpc-message` encoding: printable ASCII except `%` passes, every other byte is `%XX`.
    static func percentEncoded(_ message: String) -> String {
        let utf8 = message.utf8
        if utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: "%") }) {
            return message
        }
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var encoded = [UInt8]()
        encoded.reserveCapacity(utf8.count * 3)
        for byte in utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(hex[Int(byte >> 4)])
                encoded.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}

/// `name` in lower case, as HTTP/2 requires, without making a new string when it already is
/// (metadata keys nearly always are: `lowercased()` allocated a copy per header per call).
func lowercasedFieldName(_ name: String) -> String {
    name.utf8.contains(where: { (65...90).contains($0) }) ? name.lowercased() : name
}
