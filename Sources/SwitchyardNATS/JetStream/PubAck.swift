import NIOCore

/// The stream's acknowledgement of a published message.
package struct PubAck: Decodable, Hashable, Sendable {
    package var stream: String
    package var sequence: UInt64
    /// The message id was seen within the duplicate window: not stored again.
    package var duplicate: Bool
    package var domain: String?

    package init(stream: String, sequence: UInt64, duplicate: Bool = false, domain: String? = nil) {
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate
        self.domain = domain
    }

    enum CodingKeys: String, CodingKey {
        case stream, domain, duplicate
        case sequence = "seq"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stream = try container.decode(String.self, forKey: .stream)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
        domain = try container.decodeIfPresent(String.self, forKey: .domain)
    }

    /// Parses a publish's answer: `{"stream":"S","seq":1}` (the hot path, read without
    /// Foundation) or an API error.
    static func parse(_ payload: ByteBuffer) throws -> PubAck {
        if let fields = FlatJSONObject.parse(payload), fields["error"] == nil,
            case .string(let stream)? = fields["stream"], case .number(let sequence)? = fields["seq"]
        {
            var duplicate = false
            if case .bool(let value)? = fields["duplicate"] { duplicate = value }
            var domain: String?
            if case .string(let value)? = fields["domain"] { domain = value }
            return PubAck(stream: stream, sequence: sequence, duplicate: duplicate, domain: domain)
        }
        return try JetStream.decodeResponse(payload)
    }
}

/// A JSON object of strings, unsigned numbers, booleans and nulls only, as JetStream's
/// publish acks are. Anything else (nesting, escapes, fractions) gives `nil`: the caller then
/// uses a full JSON decoder.
enum FlatJSONObject {
    enum Value: Equatable {
        case string(String)
        case number(UInt64)
        case bool(Bool)
        case null
    }

    static func parse(_ buffer: ByteBuffer) -> [String: Value]? {
        buffer.withUnsafeReadableBytes { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.object()
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        mutating func object() -> [String: Value]? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var fields: [String: Value] = [:]
            skipSpace()
            if take(UInt8(ascii: "}")) { return trailingSpaceOnly() ? fields : nil }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = value() else { return nil }
                fields[key] = value
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                return trailingSpaceOnly() ? fields : nil
            }
        }

        mutating func value() -> Value? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return string().map(Value.string)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
                guard index - start <= 19, let number = UInt64(String(decoding: bytes[start..<index], as: UTF8.self)) else { return nil }
                return .number(number)
            case UInt8(ascii: "t"):
                return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            default:
                return nil
            }
        }

        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: bytes[start..<index], as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") || byte < 32 { return nil }
                index += 1
            }
            return nil
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            guard bytes[index..<(index + count)].elementsEqual(expected) else { return false }
            index += count
            return true
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13 { index += 1 }
        }

        mutating func trailingSpaceOnly() -> Bool {
            skipSpace()
            return index == bytes.count
        }
    }
}
