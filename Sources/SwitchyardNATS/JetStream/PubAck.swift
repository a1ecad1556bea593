package import NIOCore

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

    /// Parses a publish's answer: `{"stream":"S","seq":1}` (the hot path: read in place, without
    /// Foundation or intermediate collections) or an API error.
    package static func parse(_ payload: ByteBuffer) throws -> PubAck {
        if let ack = payload.withUnsafeReadableBytes({ bytes in
            var scanner = PubAckScanner(bytes: bytes)
            return scanner.pubAck()
        }) {
            return ack
        }
        return try JetStream.decodeResponse(payload)
    }
}

/// Reads a publish ack as JetStream writes it: one flat object with "stream", "seq" and maybe
/// "duplicate" and "domain". Anything else (an "error" member, nesting, escapes, fractions,
/// unexpected types) gives `nil`, and the caller falls back to a full JSON decoder, which also
/// produces the right error.
private struct PubAckScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    mutating func pubAck() -> PubAck? {
        var stream: String?
        var sequence: UInt64?
        var duplicate = false
        var domain: String?
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if !take(UInt8(ascii: "}")) {
            repeat {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                if keyIs(key, "stream") {
                    guard let value = string() else { return nil }
                    stream = String(decoding: bytes[value], as: UTF8.self)
                } else if keyIs(key, "seq") {
                    guard let value = number() else { return nil }
                    sequence = value
                } else if keyIs(key, "duplicate") {
                    if literal("true") {
                        duplicate = true
                    } else if literal("false") || literal("null") {
                        duplicate = false
                    } else {
                        return nil
                    }
                } else if keyIs(key, "domain") {
                    if let value = string() {
                        domain = String(decoding: bytes[value], as: UTF8.self)
                    } else if literal("null") {
                        domain = nil
                    } else {
                        return nil
                    }
                } else if keyIs(key, "error") {
                    return nil
                } else {
                    guard skipScalar() else { return nil }
                }
                skipSpace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
        }
        skipSpace()
        guard index == bytes.count, let stream, let sequence else { return nil }
        return PubAck(stream: stream, sequence: sequence, duplicate: duplicate, domain: domain)
    }

    /// A string without escapes: the range of its content.
    private mutating func string() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<(index - 1)
            }
            if byte == UInt8(ascii: "\\") || byte < 32 { return nil }
            index += 1
        }
        return nil
    }

    /// An unsigned integer of at most 19 digits (which cannot overflow `UInt64`).
    private mutating func number() -> UInt64? {
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
            index += 1
        }
        guard index > start, index - start <= 19 else { return nil }
        return value
    }

    /// A member this client does not read: a string, number, boolean or null.
    private mutating func skipScalar() -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return number() != nil
        default: return literal("true") || literal("false") || literal("null")
        }
    }

    private func keyIs(_ key: Range<Int>, _ name: StaticString) -> Bool {
        let expected = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return key.count == expected.count && bytes[key].elementsEqual(expected)
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let expected = UnsafeRawBufferPointer(start: word.utf8Start, count: count)
        guard bytes[index..<(index + count)].elementsEqual(expected) else { return false }
        index += count
        return true
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13 { index += 1 }
    }
}
