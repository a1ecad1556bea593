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
            let name = key.lowercased()
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
