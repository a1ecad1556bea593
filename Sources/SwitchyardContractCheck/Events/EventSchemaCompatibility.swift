/// Whether an event schema can replace its committed snapshot without breaking anyone.
///
/// Producers, consumers and the event log all outlive a deploy: consumers built against the
/// snapshot keep reading new events, and new consumers replay old ones. So a change is
/// compatible only when both directions keep working, which leaves one kind of change:
/// adding an optional property. Rejected:
/// - a property removed (a rename is a removal plus an addition);
/// - a `type` or `format` changed;
/// - a property newly required (old events in the log lack it), or no longer required
///   (consumers that rely on it, e.g. a non-optional `Codable` field, would fail);
/// - `additionalProperties` tightened, or `minLength`/`minimum` raised or added (old events
///   could stop validating).
package enum EventSchemaCompatibility {
    /// Every incompatible difference between `snapshot` (committed) and `current`.
    /// - Parameters:
    ///   - current: The schema in `Contracts/events/`.
    ///   - snapshot: The schema in `Contracts/snapshots/events/`.
    ///   - type: The event type, for the findings' subjects.
    package static func findings(current: JSONSchema, snapshot: JSONSchema, type: String) -> [ContractFinding] {
        var findings: [ContractFinding] = []
        compare(snapshot, current, location: "#") { location, message in
            findings.append(ContractFinding(rule: .eventCompatibility, subject: "\(type)\(location)", message: message))
        }
        return findings
    }

    private static func compare(_ old: JSONSchema, _ new: JSONSchema, location: String, report: (String, String) -> Void) {
        if new.rejectsEverything && !old.rejectsEverything {
            report(location, "now accepts no value (false schema)")
            return
        }
        if old.types != new.types {
            report(location, "type changed from \(describe(old.types)) to \(describe(new.types))")
        }
        if old.format != new.format {
            report(location, "format changed from \(old.format?.rawValue ?? "none") to \(new.format?.rawValue ?? "none")")
        }
        if let minLength = new.minLength, minLength > (old.minLength ?? 0) {
            report(location, "minLength tightened from \(old.minLength.map(String.init) ?? "none") to \(minLength)")
        }
        if let minimum = new.minimum, minimum > (old.minimum ?? -.infinity) {
            report(location, "minimum tightened from \(old.minimum.map { "\($0)" } ?? "none") to \(minimum)")
        }

        let removed = old.properties.keys.filter { new.properties[$0] == nil }.sorted()
        let added = new.properties.keys.filter { old.properties[$0] == nil }.sorted()
        for name in removed {
            let hint = added.isEmpty ? "" : " (added: \(added.joined(separator: ", ")); a rename is a removal plus an addition)"
            report(propertyLocation(location, name), "property \"\(name)\" was removed\(hint); consumers still read it")
        }
        for name in new.required where !old.required.contains(name) {
            let was = old.properties[name] == nil ? "is a new required property" : "was optional and is now required"
            report(propertyLocation(location, name), "\"\(name)\" \(was); events already in the log lack it. Add it as optional instead")
        }
        for name in old.required where !new.required.contains(name) && new.properties[name] != nil {
            report(propertyLocation(location, name), "\"\(name)\" is no longer required; consumers rely on it being present")
        }
        for name in old.properties.keys.sorted() {
            guard let oldProperty = old.properties[name], let newProperty = new.properties[name] else { continue }
            compare(oldProperty, newProperty, location: propertyLocation(location, name), report: report)
        }

        let additional = "\(location)/additionalProperties"
        switch (old.additionalProperties, new.additionalProperties) {
        case (.forbidden, _), (.allowed, .allowed), (.schema, .allowed):
            break  // unchanged or loosened
        case (.schema(let oldSchema), .schema(let newSchema)):
            compare(oldSchema, newSchema, location: additional, report: report)
        case (.allowed, .forbidden), (.allowed, .schema), (.schema, .forbidden):
            report(additional, "additionalProperties tightened from \(describe(old.additionalProperties)) to \(describe(new.additionalProperties))")
        }
    }

    private static func propertyLocation(_ location: String, _ name: String) -> String {
        "\(location)/properties/\(JSONPointer.escape(name))"
    }

    private static func describe(_ types: Set<JSONSchema.InstanceType>?) -> String {
        guard let types else { return "any" }
        return types.sorted().map(\.rawValue).joined(separator: "|")
    }

    private static func describe(_ additional: JSONSchema.AdditionalProperties) -> String {
        switch additional {
        case .allowed: "allowed"
        case .forbidden: "false"
        case .schema: "a schema"
        }
    }
}
