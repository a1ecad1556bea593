import Foundation

/// An event's extensions (CloudEvents attributes beyond the required ones, `traceparent` among
/// them) as they are stored in the event log and the outboxes: a JSON object of strings.
///
/// Written and read here by hand rather than through `JSONEncoder`/`JSONDecoder`, which cost
/// several microseconds per event, each way, on a path that moves tens of thousands of events a
/// second. The output is plain JSON; reading takes the fast path for what this writes (no escape
/// sequences, which extension values hardly ever need) and hands anything else, such as rows
/// written by an earlier version with `\/` escapes, to `JSONDecoder`.
package enum ExtensionsCoding {
    package static func encode(_ extensions: [String: String]) -> String {
        guard !extensions.isEmpty else { return "{}" }
        var text = "{"
        text.reserveCapacity(extensions.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        var first = true
        for (key, value) in extensions {
            if !first { text.append(",") }
            first = false
            appendQuoted(key, to: &text)
            text.append(":")
            appendQuoted(value, to: &text)
        }
        text.append("}")
        return text
    }

    package static func decode(_ text: String) throws -> [String: String] {
        guard text != "{}" else { return [:] }
        if let extensions = decodeUnescaped(text) { return extensions }
        return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    /// `value` in double quotes, with what JSON requires escaped: quote, backslash, and control
    /// characters.
    private static func appendQuoted(_ value: String, to text: inout String) {
        text.append("\"")
        if !value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            text.append(value)
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text.append("\\\"")
                case "\\": text.append("\\\\")
                case "\n": text.append("\\n")
                case "\r": text.append("\\r")
                case "\t": text.append("\\t")
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default: text.unicodeScalars.append(scalar)
                }
            }
        }
        text.append("\"")
    }

    /// `{"k":"v",…}` with no escape sequences and no whitespace, as `encode` writes unless a
    /// value needs escaping; nil for anything else.
    static func decodeUnescaped(_ text: String) -> [String: String]? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}"), !bytes.contains(UInt8(ascii: "\\")) else { return nil }
        var extensions: [String: String] = [:]
        var index = 1
        /// The string starting at `index` (which must be a quote); moves past its closing quote.
        func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            index = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        func expect(_ byte: Character) -> Bool {
            guard index < bytes.count, let ascii = byte.asciiValue, bytes[index] == ascii else { return false }
            index += 1
            return true
        }
        while true {
            guard let key = string(), expect(":"), let value = string() else { return nil }
            extensions[key] = value
            if expect(",") { continue }
            guard expect("}"), index == bytes.count else { return nil }
            return extensions
        }
    }
}
