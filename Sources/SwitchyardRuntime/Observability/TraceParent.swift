import W3CTraceContext

/// The W3C `traceparent` header (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`), read
/// and written without intermediate arrays or strings: every gRPC call writes one and every
/// server reads one, and `W3CTraceContext`'s own conversions allocate half a dozen times each.
package enum TraceParent {
    static let length = 55

    /// `identity` as a sampled `traceparent`.
    package static func format(_ identity: SpanIdentity) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            var at = 0
            func put(_ byte: UInt8) {
                buffer[at] = byte
                at += 1
            }
            func putHex<Bytes>(_ bytes: Bytes) {
                withUnsafeBytes(of: bytes) { raw in LowercaseHex.write(raw, into: buffer, at: &at) }
            }
            put(UInt8(ascii: "0")); put(UInt8(ascii: "0")); put(UInt8(ascii: "-"))
            putHex(identity.traceID.bytes)
            put(UInt8(ascii: "-"))
            putHex(identity.spanID.bytes)
            put(UInt8(ascii: "-")); put(UInt8(ascii: "0")); put(UInt8(ascii: "1"))
            return at
        }
    }

    /// The ids a `traceparent` carries, or nil when it is not a valid version-00 header: wrong
    /// length or delimiters, anything but lower-case hex, or an all-zero id (W3C Trace Context
    /// §3.2.2), which makes the caller start a new trace.
    package static func parse(_ value: String) -> SpanIdentity? {
        var value = value
        return value.withUTF8 { utf8 -> SpanIdentity? in
            guard utf8.count == length,
                  utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "0"),
                  utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"), utf8[52] == UInt8(ascii: "-"),
                  hexByte(utf8, at: 53) != nil
            else { return nil }
            var traceBytes = TraceID.null.bytes
            var spanBytes = SpanID.null.bytes
            guard withUnsafeMutableBytes(of: &traceBytes, { read(utf8, from: 3, into: $0) }),
                  withUnsafeMutableBytes(of: &spanBytes, { read(utf8, from: 36, into: $0) })
            else { return nil }
            let identity = SpanIdentity(traceID: TraceID(bytes: traceBytes), spanID: SpanID(bytes: spanBytes))
            guard identity.traceID != .null, identity.spanID != .null else { return nil }
            return identity
        }
    }

    private static func read(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int, into bytes: UnsafeMutableRawBufferPointer) -> Bool {
        for index in 0..<bytes.count {
            guard let byte = hexByte(utf8, at: start + 2 * index) else { return false }
            bytes[index] = byte
        }
        return true
    }

    private static func hexByte(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt8? {
        guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
        return high << 4 | low
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
