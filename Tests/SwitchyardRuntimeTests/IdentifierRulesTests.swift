import SwitchyardRuntime
import Testing

@Suite("Identifier rules")
struct IdentifierRulesTests {
    @Test("Printable identifiers pass, in ASCII and beyond", arguments: [
        "sku-1", "ord_01J9 ~!", "café", "注文-7", "emoji-🙂",
    ])
    func accepted(value: String) {
        #expect(IdentifierRules.problem(with: value, name: "id") == nil)
    }

    // The ASCII fast path must not let through what the Unicode check rejects: DEL is the one
    // ASCII control character above the space.
    @Test("Control and format characters are refused, ASCII or not", arguments: [
        "a\u{0}b", "a\tb", "a\nb", "a\u{7F}b", "a\u{85}b", "a\u{200B}b", "a\u{2028}b", "é\u{1}",
    ])
    func refused(value: String) {
        #expect(IdentifierRules.problem(with: value, name: "id") == "id contains control characters")
    }

    @Test("Empty and overlong identifiers are refused")
    func lengths() {
        #expect(IdentifierRules.problem(with: "", name: "sku") == "sku must not be empty")
        #expect(IdentifierRules.problem(with: String(repeating: "a", count: 128), name: "sku") == nil)
        #expect(IdentifierRules.problem(with: String(repeating: "a", count: 129), name: "sku") == "sku is longer than 128 bytes")
    }
}
