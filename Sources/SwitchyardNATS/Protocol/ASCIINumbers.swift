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

    /// Writes `value` in decimal, all digits in one write (a `setInteger` per digit costs a
    /// bounds and uniqueness check each, on every PUB).
    mutating func writeDecimal(_ value: Int) {
        if value < 0 { writeInteger(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        let digits = decimalDigitCount(Int(clamping: magnitude))
        writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { bytes in
            var rest = magnitude
            for index in stride(from: digits - 1, through: 0, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            return digits
        }
    }
}

/// Whether `string` starts with `prefix`, comparing bytes (no Unicode normalisation, unlike
/// `hasPrefix`), through contiguous storage when the string has it.
@inline(__always)
func utf8HasPrefix(_ string: String, _ prefix: StaticString) -> Bool {
    let expected = UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
    if let result = string.utf8.withContiguousStorageIfAvailable({ $0.starts(with: expected) }) { return result }
    return string.utf8.starts(with: expected)
}
