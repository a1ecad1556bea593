/// Why an instance does not validate: where (a JSON pointer into the instance) and what.
package struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// `""` for the whole instance, `/orderId` for a field.
    package var instancePath: String
    package var message: String

    package var description: String { "\(instancePath.isEmpty ? "(root)" : instancePath): \(message)" }
}

extension JSONSchema {
    /// Every way `instance` fails this schema; empty when it validates.
    /// - Parameter instance: A parsed JSON document (see `JSONValue(parsing:)`).
    package func validate(_ instance: JSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        validate(instance, at: "", into: &violations)
        return violations
    }

    private func validate(_ instance: JSONValue, at path: String, into violations: inout [SchemaViolation]) {
        if rejectsEverything {
            violations.append(SchemaViolation(instancePath: path, message: "no value is allowed here"))
            return
        }
        let actual = instance.schemaType
        if let types, !types.contains(actual), !(actual == .integer && types.contains(.number)) {
            let expected = types.sorted().map(\.rawValue).joined(separator: " or ")
            violations.append(SchemaViolation(instancePath: path, message: "expected \(expected), found \(actual.rawValue)"))
            // The type-specific keywords below would only repeat the same complaint.
            return
        }
        switch instance {
        case .object(let members):
            for name in required where members[name] == nil {
                violations.append(SchemaViolation(instancePath: path, message: "required property \"\(name)\" is missing"))
            }
            for (name, value) in members.sorted(by: { $0.key < $1.key }) {
                let memberPath = "\(path)/\(JSONPointer.escape(name))"
                if let schema = properties[name] {
                    schema.validate(value, at: memberPath, into: &violations)
                    continue
                }
                switch additionalProperties {
                case .allowed:
                    break
                case .forbidden:
                    violations.append(SchemaViolation(instancePath: memberPath, message: "property \"\(name)\" is not allowed (additionalProperties: false)"))
                case .schema(let schema):
                    schema.validate(value, at: memberPath, into: &violations)
                }
            }
        case .string(let text):
            if let minLength, text.unicodeScalars.count < minLength {
                violations.append(SchemaViolation(instancePath: path, message: "shorter than minLength \(minLength)"))
            }
            if format == .dateTime, !RFC3339.isDateTime(text) {
                violations.append(SchemaViolation(instancePath: path, message: "\"\(text)\" is not an RFC 3339 date-time"))
            }
        case .number(let number):
            if let minimum, number < minimum {
                violations.append(SchemaViolation(instancePath: path, message: "\(number) is less than minimum \(minimum)"))
            }
        case .null, .bool, .array:
            break
        }
    }
}
