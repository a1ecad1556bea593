package import NIOCore

/// The `grpc-timeout` header: an ASCII integer of at most 8 digits and a unit (H, M, S, m, u,
/// n), per the gRPC over HTTP/2 protocol.
package enum GRPCTimeout {
    /// The duration `value` encodes, or `nil` if it is malformed.
    package static func parse(_ value: String) -> TimeAmount? {
        let utf8 = value.utf8
        guard let unit = utf8.last, utf8.count >= 2, utf8.count <= 9 else { return nil }
        var amount: Int64 = 0
        for byte in utf8.dropLast() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .hours(amount)
        case UInt8(ascii: "M"): return .minutes(amount)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }
}
