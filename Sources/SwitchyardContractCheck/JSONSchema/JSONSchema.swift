import Foundation

/// The part of JSON Schema draft 2020-12 that Switchyard's event schemas use, parsed into a
/// value the validator and the compatibility rules both read.
///
/// Understood: `type`, `required`, `properties`, `additionalProperties`, `minLength`,
/// `minimum`, `format: "date-time"`, boolean schemas, and the annotations `$schema`, `$id`,
/// `$comment`, `title`, `description`, `examples`. Anything else is rejected when the schema is
/// parsed (`JSONSchemaError`), never silently ignored: a keyword the validator skipped would
/// let through events the schema forbids. To use another keyword, teach it to `init(_:)`,
/// `validate(_:)` and `EventSchemaCompatibility` first.
///
/// `format` is asserted, as the format-assertion vocabulary does: an `occurredAt` that is not
/// an RFC 3339 date-time is a broken event, not an annotation.
///
/// ```swift
/// let schema = try JSONSchema(JSONValue(parsing: schemaBytes))
/// let violations = schema.validate(try JSONValue(parsing: eventBytes))
/// ```
package struct JSONSchema: Sendable, Hashable {
    /// The JSON types `type` can name.
    package enum InstanceType: String, Sendable, Hashable, CaseIterable, Comparable {
        case null, boolean, integer, number, string, array, object

        package static func < (lhs: InstanceType, rhs: InstanceType) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The formats this validator asserts.
    package enum Format: String, Sendable, Hashable {
        case dateTime = "date-time"
    }

    /// What an object may hold beyond `properties`.
    package indirect enum AdditionalProperties: Sendable, Hashable {
        /// Anything (the keyword is absent, `true` or `{}`).
        case allowed
        /// Nothing (`false`).
        case forbidden
        /// Values that validate against this schema.
        case schema(JSONSchema)
    }

    /// The `false` schema: no value validates.
    package var rejectsEverything = false
    /// `type`; `nil` when absent (any type).
    package var types: Set<InstanceType>?
    /// `required`, in the schema's order.
    package var required: [String] = []
    /// `properties`.
    package var properties: [String: JSONSchema] = [:]
    /// `additionalProperties`.
    package var additionalProperties: AdditionalProperties = .allowed
    /// `minLength`, in Unicode code points.
    package var minLength: Int?
    /// `minimum` (inclusive).
    package var minimum: Double?
    /// `format`, asserted.
    package var format: Format?

    /// The schema that accepts everything (`true`, `{}`).
    package init() {}

    /// The only dialect accepted in `$schema`.
    static let dialect = "https://json-schema.org/draft/2020-12/schema"

    /// Keywords that carry no constraint, so ignoring them cannot let a bad event through.
    private static let annotations: Set<String> = ["$schema", "$id", "$comment", "title", "description", "examples"]

    /// Parses a schema document.
    /// - Parameters:
    ///   - json: The schema: an object or a boolean.
    ///   - location: Its JSON pointer inside the document, for errors (`#` for the root).
    /// - Throws: `JSONSchemaError` for a keyword this subset does not understand or a keyword
    ///   whose value is malformed.
    package init(_ json: JSONValue, location: String = "#") throws(JSONSchemaError) {
        switch json {
        case .bool(let accepts):
            self.init()
            rejectsEverything = !accepts
            return
        case .object(let keywords):
            self.init()
            for (keyword, value) in keywords.sorted(by: { $0.key < $1.key }) {
                try parse(keyword: keyword, value: value, location: location)
            }
        default:
            throw JSONSchemaError(location: location, reason: "a schema must be an object or a boolean")
        }
    }

    private mutating func parse(keyword: String, value: JSONValue, location: String) throws(JSONSchemaError) {
        let here = "\(location)/\(JSONPointer.escape(keyword))"
        switch (keyword, value) {
        case ("$schema", .string(let uri)):
            guard uri == Self.dialect || uri == Self.dialect + "#" else {
                throw JSONSchemaError(location: here, reason: "only draft 2020-12 (\(Self.dialect)) is supported, not \(uri)")
            }
        case (let annotation, _) where Self.annotations.contains(annotation) && annotation != "$schema":
            break
        case ("type", .string(let name)):
            types = [try Self.instanceType(name, location: here)]
        case ("type", .array(let names)) where !names.isEmpty:
            var parsed: Set<InstanceType> = []
            for name in names {
                guard case .string(let name) = name else {
                    throw JSONSchemaError(location: here, reason: "`type` lists type names")
                }
                guard parsed.insert(try Self.instanceType(name, location: here)).inserted else {
                    throw JSONSchemaError(location: here, reason: "`type` names \(name) twice")
                }
            }
            types = parsed
        case ("required", .array(let names)):
            var seen: Set<String> = []
            for name in names {
                guard case .string(let name) = name, seen.insert(name).inserted else {
                    throw JSONSchemaError(location: here, reason: "`required` is an array of distinct strings")
                }
                required.append(name)
            }
        case ("properties", .object(let schemas)):
            for (name, schema) in schemas {
                properties[name] = try JSONSchema(schema, location: "\(here)/\(JSONPointer.escape(name))")
            }
        case ("additionalProperties", .bool(true)):
            additionalProperties = .allowed
        case ("additionalProperties", .bool(false)):
            additionalProperties = .forbidden
        case ("additionalProperties", .object):
            let schema = try JSONSchema(value, location: here)
            additionalProperties = schema == JSONSchema() ? .allowed : .schema(schema)
        case ("minLength", .number(let length)) where length >= 0 && value.schemaType == .integer && length <= Double(Int32.max):
            minLength = Int(length)
        case ("minimum", .number(let bound)):
            minimum = bound
        case ("format", .string(let name)):
            guard let known = Format(rawValue: name) else {
                throw JSONSchemaError(location: here, reason: "format \"\(name)\" is not supported; only \"date-time\" is asserted")
            }
            format = known
        case ("type", _), ("required", _), ("properties", _), ("additionalProperties", _), ("minLength", _), ("minimum", _), ("format", _), ("$schema", _):
            throw JSONSchemaError(location: here, reason: "malformed `\(keyword)`")
        default:
            throw JSONSchemaError(
                location: here,
                reason: "keyword `\(keyword)` is not supported by the contract checker (it would be ignored, so it is rejected)"
            )
        }
    }

    private static func instanceType(_ name: String, location: String) throws(JSONSchemaError) -> InstanceType {
        guard let type = InstanceType(rawValue: name) else {
            throw JSONSchemaError(location: location, reason: "unknown type \"\(name)\"")
        }
        return type
    }
}

/// A schema the checker cannot use: malformed, or using a keyword outside the supported subset.
package struct JSONSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON pointer of the offending keyword inside the schema (`#/properties/x/pattern`).
    package var location: String
    package var reason: String

    package var description: String { "\(location): \(reason)" }
}

/// JSON Pointer (RFC 6901) spelling, for locations in findings.
enum JSONPointer {
    static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
