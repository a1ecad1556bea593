import Foundation
import SwitchyardRuntime
import Testing

@Suite("Lower-case hex")
struct LowercaseHexTests {
    // Orders store their request fingerprint as this text, so it must stay exactly what
    // `String(format: "%02x")` wrote before: an order placed by an older build must still match.
    @Test("Every byte gives the two digits %02x gives")
    func everyByte() {
        let bytes = (0...255).map(UInt8.init)
        #expect(LowercaseHex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    }

    @Test("No bytes give no text")
    func empty() {
        #expect(LowercaseHex.encode([UInt8]()) == "")
    }

    @Test("Random identifiers are the prefix and a UUID's 32 lower-case hex digits, and differ")
    func randomIdentifiers() {
        let first = LowercaseHex.randomIdentifier(prefix: "ord_")
        let second = LowercaseHex.randomIdentifier(prefix: "ord_")
        #expect(first.hasPrefix("ord_") && first.count == 36)
        #expect(first.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) })
        #expect(first != second)
    }
}
