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

    /// `duration` as a header value: the finest unit whose amount fits the eight digits the
    /// protocol allows, rounded up so the server never sees less time than the client allows.
    package static func encode(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, duration > .zero else { return "0n" }
        // Nanoseconds, saturating: more than ~292 years is "forever" anyway.
        let (wholeNanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, sumOverflow) = wholeNanos.addingReportingOverflow((attoseconds + 999_999_999) / 1_000_000_000)
        let nanoseconds = overflow || sumOverflow ? Int64.max : sum
        let maxAmount: Int64 = 99_999_999
        let units: [(divisor: Int64, unit: Character)] = [
            (1, "n"), (1_000, "u"), (1_000_000, "m"), (1_000_000_000, "S"), (60_000_000_000, "M"), (3_600_000_000_000, "H"),
        ]
        for (divisor, unit) in units {
            let amount = nanoseconds / divisor + (nanoseconds % divisor == 0 ? 0 : 1)
            if amount <= maxAmount { return "\(amount)\(unit)" }
        }
        return "\(maxAmount)H"
    }
}
