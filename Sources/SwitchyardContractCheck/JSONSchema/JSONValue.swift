import Foundation

/// A parsed JSON document, keeping the distinctions JSON Schema makes (booleans are not
/// numbers). Foundation's `JSONSerialization` blurs those into `NSNumber`, so this decodes
/// through `Codable`, whose JSON decoder keeps them apart.
package enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a JSON document.
    /// - Throws: `DecodingError` (Foundation's) when the bytes are not JSON.
    package init(parsing bytes: some Collection<UInt8>) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// JSON Schema's name for the value's type. Integers are numbers with no fractional part
    /// (draft 2020-12 §6.1.1), so `1.0` is an `integer` too.
    var schemaType: JSONSchema.InstanceType {
        switch self {
        case .null: .null
        case .bool: .boolean
        case .number(let number): number.rounded(.towardZero) == number && number.isFinite ? .integer : .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }
}

extension JSONValue: Decodable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
