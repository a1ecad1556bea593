/// Every event says when its fact happened: a required top-level `occurredAt` holding an
/// RFC 3339 date-time string (DESIGN.md §1; `EventContract.occurredAt`).
package enum OccurredAtRule {
    /// The field every event carries.
    package static let field = "occurredAt"

    /// Why `schema` does not declare `occurredAt` properly; empty when it does.
    /// - Parameters:
    ///   - schema: The event's schema.
    ///   - type: The event type, for the findings' subjects.
    package static func findings(in schema: JSONSchema, type: String) -> [ContractFinding] {
        var problems: [String] = []
        if !schema.required.contains(field) {
            problems.append("\"\(field)\" must be listed in \"required\"")
        }
        if let property = schema.properties[field] {
            if property.types != [.string] || property.format != .dateTime || property.rejectsEverything {
                problems.append("\"\(field)\" must be {\"type\": \"string\", \"format\": \"date-time\"}")
            }
        } else {
            problems.append("\"\(field)\" must be declared in \"properties\" as {\"type\": \"string\", \"format\": \"date-time\"}")
        }
        return problems.map { ContractFinding(rule: .occurredAt, subject: type, message: $0) }
    }
}
