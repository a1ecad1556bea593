import Foundation

/// Unpadded base64url (RFC 4648 §5), for opaque page tokens: safe in URLs and query strings
/// without further escaping.
package enum Base64URL {
    package static func encode(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The text `token` encodes, or `nil` when it is not base64url of UTF-8 or longer than
    /// `maxLength` characters.
    package static func decode(_ token: String, maxLength: Int = 512) -> String? {
        guard token.count <= maxLength else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
