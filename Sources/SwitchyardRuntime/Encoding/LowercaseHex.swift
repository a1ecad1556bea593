import Foundation

/// Bytes as lower-case hexadecimal text, two digits a byte.
///
/// Why not `String(format: "%02x", byte)` per byte: Foundation's formatter parses the format and
/// builds a string each time, which made an order's request fingerprint (a SHA-256, 32 bytes)
/// about 2% of the CPU of placing it.
package enum LowercaseHex {
    private static let digits: StaticString = "0123456789abcdef"

    package static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var at = 0
            write(bytes, into: buffer, at: &at)
            return at
        }
    }

    /// Writes the digits of `bytes` into `buffer` from `at`, and moves `at` past them. The
    /// caller makes room for two bytes per byte; text built in place (a `traceparent`) uses this.
    static func write<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into buffer: UnsafeMutableBufferPointer<UInt8>, at: inout Int) {
        digits.withUTF8Buffer { digits in
            for byte in bytes {
                buffer[at] = digits[Int(byte >> 4)]
                buffer[at + 1] = digits[Int(byte & 0x0f)]
                at += 2
            }
        }
    }
}

extension LowercaseHex {
    /// `prefix` and a random UUID's 32 hex digits, e.g. `ord_3f2a…`: the same text as
    /// `prefix + UUID().uuidString.lowercased()` without its hyphens, with none of the
    /// intermediate strings (every order and shipment makes one).
    package static func randomIdentifier(prefix: String) -> String {
        withUnsafeBytes(of: UUID().uuid) { prefix + encode($0) }
    }
}
