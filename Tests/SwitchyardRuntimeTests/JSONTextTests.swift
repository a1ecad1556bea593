import Foundation
import SwitchyardRuntime
import Testing

@Suite("JSON text by hand")
struct JSONTextTests {
    // Plain text takes the whole-string path, the rest the escaping one; both must give JSON
    // that parses back to the same string.
    @Test("Quoted strings parse back to what was quoted", arguments: [
        "ord_0123abcd", "placed", "", "café 注文 🙂", "with space and ~!@#$%^&*()",
        "quote \" inside", "back\\slash", "line\nbreak", "tab\there", "nul\u{0}and\u{1F}", "del\u{7F}", "\r\n",
    ])
    func roundTrip(text: String) throws {
        var json = "["
        JSONText.appendQuoted(text, to: &json)
        json += "]"
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
        #expect(parsed == [text], "\(json)")
    }

    @Test("Control characters are escaped, as \\u00XX when they have no short form")
    func escapes() {
        var json = ""
        JSONText.appendQuoted("a\"b\\c\nd\u{1}", to: &json)
        #expect(json == #""a\"b\\c\nd\u0001""#)
    }
}
