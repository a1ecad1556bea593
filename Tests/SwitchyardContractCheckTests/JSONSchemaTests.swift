import SwitchyardContractCheck
import Testing

@Suite("JSON Schema subset: validation, and refusal of what it does not understand")
struct JSONSchemaTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var schema: String
        var instance: String
        var valid: Bool
        var testDescription: String { "\(instance) against \(schema) is \(valid ? "valid" : "invalid")" }
    }

    @Test(
        "Validates type, required, properties, additionalProperties, minLength, minimum and date-time",
        arguments: [
            Case(schema: #"{"type": "string"}"#, instance: #""a""#, valid: true),
            Case(schema: #"{"type": "string"}"#, instance: "1", valid: false),
            Case(schema: #"{"type": "integer"}"#, instance: "1", valid: true),
            Case(schema: #"{"type": "integer"}"#, instance: "1.0", valid: true),  // 2020-12: zero fraction is an integer
            Case(schema: #"{"type": "integer"}"#, instance: "1.5", valid: false),
            Case(schema: #"{"type": "integer"}"#, instance: "true", valid: false),
            Case(schema: #"{"type": "boolean"}"#, instance: "1", valid: false),
            Case(schema: #"{"type": "boolean"}"#, instance: "false", valid: true),
            Case(schema: #"{"type": "number"}"#, instance: "2", valid: true),
            Case(schema: #"{"type": ["string", "null"]}"#, instance: "null", valid: true),
            Case(schema: #"{"type": "object"}"#, instance: "[]", valid: false),
            Case(schema: #"{"type": "array"}"#, instance: "[]", valid: true),
            Case(schema: #"{"required": ["a"]}"#, instance: #"{"b": 1}"#, valid: false),
            Case(schema: #"{"required": ["a"]}"#, instance: "3", valid: true),  // required applies to objects only
            Case(schema: #"{"properties": {"a": {"type": "string"}}}"#, instance: #"{"a": 1}"#, valid: false),
            Case(schema: #"{"properties": {"a": {"type": "string"}}, "additionalProperties": false}"#, instance: #"{"b": 1}"#, valid: false),
            Case(schema: #"{"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}}"#, instance: #"{"b": 1}"#, valid: true),
            Case(schema: #"{"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}}"#, instance: #"{"b": "x"}"#, valid: false),
            Case(schema: #"{"properties": {"a": false}}"#, instance: #"{"a": 1}"#, valid: false),
            Case(schema: #"{"minLength": 2}"#, instance: #""é""#, valid: false),
            Case(schema: #"{"minLength": 2}"#, instance: #""éé""#, valid: true),
            Case(schema: #"{"minimum": 0}"#, instance: "-0.5", valid: false),
            Case(schema: #"{"minimum": 0}"#, instance: "0", valid: true),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24T22:26:00.000Z""#, valid: true),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24t22:26:00+01:00""#, valid: true),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2016-12-31T23:59:60Z""#, valid: true),  // leap second
            Case(schema: #"{"format": "date-time"}"#, instance: #""2024-02-29T00:00:00Z""#, valid: true),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2023-02-29T00:00:00Z""#, valid: false),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24T22:26:00""#, valid: false),  // no offset
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24 22:26:00Z""#, valid: false),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-13-01T00:00:00Z""#, valid: false),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24T24:00:00Z""#, valid: false),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24T22:26:00.Z""#, valid: false),
            Case(schema: #"{"format": "date-time"}"#, instance: #""2026-11-24""#, valid: false),
            Case(schema: #"{"format": "date-time"}"#, instance: "5", valid: true),  // format applies to strings only
            Case(schema: "true", instance: "5", valid: true),
            Case(schema: "false", instance: "5", valid: false),
        ]
    )
    func validates(_ testCase: Case) throws {
        let schema = try JSONSchema(JSONValue(parsing: Array(testCase.schema.utf8)))
        let violations = schema.validate(try JSONValue(parsing: Array(testCase.instance.utf8)))
        #expect(violations.isEmpty == testCase.valid, "\(violations)")
    }

    @Test(
        "Keywords outside the subset are refused instead of ignored",
        arguments: [
            #"{"pattern": "^a"}"#,
            ##"{"$ref": "#/$defs/x"}"##,
            #"{"items": {"type": "string"}}"#,
            #"{"enum": ["a"]}"#,
            #"{"oneOf": [{"type": "string"}]}"#,
            #"{"format": "email"}"#,
            #"{"properties": {"a": {"maxLength": 3}}}"#,
            #"{"$schema": "http://json-schema.org/draft-07/schema#"}"#,
            #"{"type": "text"}"#,
            #"{"minLength": -1}"#,
            #"{"required": "a"}"#,
            #"[]"#,
        ]
    )
    func refusesUnknownKeywords(schema: String) throws {
        #expect(throws: JSONSchemaError.self) {
            try JSONSchema(JSONValue(parsing: Array(schema.utf8)))
        }
    }
}
