import NIOCore

/// Decimal numbers on the wire, written and read without going through `String`.

@inline(__always)
func decimalDigitCount(_ value: Int) -> Int {
    var count = 1
    var rest = value.magnitude / 10
    while rest > 0 {
        count += 1
        rest /= 10
    }
    return value < 0 ? count + 1 : count
}

/// Parses a non-negative decimal that fits an `Int`; `nil` for anything else, including
/// signs, empty input and overflow.
func parseDecimal<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int? {
    guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
    var value = 0
    for byte in bytes {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
        let (sum, carry) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
        guard !overflow, !carry else { return nil }
        value = sum
    }
    return value
}

extension ByteBuffer {
    @inline(__always)
    mutating func writeCRLF() {
        writeInteger(UInt16(0x0D0A))
    }

    /// Writes `value` in decimal.
    mutating func writeDecimal(_ value: Int) {
        if value < 0 { writeInteger(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        let digits = decimalDigitCount(Int(clamping: magnitude))
        let start = writerIndex
        writeRepeatingByte(UInt8(ascii: "0"), count: digits)
        var rest = magnitude
        var index = start + digits - 1
        while index >= start {
            setInteger(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10), at: index)
            rest /= 10
            index -= 1
        }
    }
}
