/// JSON string escaping (RFC 8259), for the few JSON texts written by hand: log lines, error
/// bodies, and the hottest fixed-shape responses, where an encoder would cost more than it saves.
package enum JSONText {
    /// Appends `text` as a quoted JSON string.
    package static func appendQuoted(_ text: String, to json: inout String) {
        json += "\""
        // Most text (ids, statuses, names) needs no escaping: append it whole rather than a
        // scalar at a time, which was 1% of a GET through the whole path.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            json += text
            json += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }
}
