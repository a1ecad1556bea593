/// The one rule for identifiers that arrive from clients (SKUs, order ids, customer ids,
/// idempotency keys): present, at most 128 bytes, and free of control and format characters,
/// so they are safe in logs, URLs and SQL parameters alike.
package enum IdentifierRules {
    package static let maximumLength = 128

    /// What is wrong with `value` as the identifier `name`, or `nil` when it is fine.
    package static func problem(with value: String, name: String) -> String? {
        if value.isEmpty { return "\(name) must not be empty" }
        if value.utf8.count > maximumLength { return "\(name) is longer than \(maximumLength) bytes" }
        // Printable ASCII, which is what ids nearly always are, needs no Unicode tables: the
        // general-category lookup below cost 1% of a GET through the whole path.
        if value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return nil }
        if !value.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControlOrFormat }) {
            return "\(name) contains control characters"
        }
        return nil
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isControlOrFormat: Bool {
        switch self {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned: true
        default: false
        }
    }
}
