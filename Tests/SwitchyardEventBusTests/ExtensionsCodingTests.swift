import Foundation
import SwitchyardEventBus
import Testing

@Suite("Event extensions as stored: a JSON object of strings")
struct ExtensionsCodingTests {
    @Test(
        "What is written is JSON that JSONDecoder reads the same, and reads back unchanged",
        arguments: [
            [:],
            ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
            ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"],
            ["quote": "say \"hi\"", "backslash": #"C:\path\"#, "slash": "a/b"],
            ["control": "line\nbreak\ttab\r\u{01}\u{1F}", "unicode": "Zürich ✓ 🚚", "": "empty key"],
            ["{": "}", ",": ":", "spaces": " { \"a\" : \"b\" } "],
        ] as [[String: String]]
    )
    func roundTrip(_ extensions: [String: String]) throws {
        let text = ExtensionsCoding.encode(extensions)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == extensions)
        #expect(try ExtensionsCoding.decode(text) == extensions)
    }

    @Test("Rows in JSONEncoder's form (escaped slashes, whitespace) still read", arguments: [
        #"{"source":"\/switchyard\/orders"}"#,
        #"{ "a" : "b" , "c":"d" }"#,
        #"{"a":"b"}"#,
    ])
    func foreignForms(_ text: String) throws {
        #expect(try ExtensionsCoding.decode(text) == JSONDecoder().decode([String: String].self, from: Data(text.utf8)))
    }

    @Test("A damaged row is an error, not a crash", arguments: [#"{"a":"b""#, #"{"a":1}"#, "[]", "{", #"{"a""#, "not json"])
    func damaged(_ text: String) {
        #expect(throws: (any Error).self) { try ExtensionsCoding.decode(text) }
    }
}
