import SwiftProtobuf
import SwitchyardContractCheck

/// Small in-memory contracts for the rule tests: an `order.placed`-like schema built from
/// property fragments, and a proto file built with `.with { }`.
enum ContractFixtures {
    /// Property name → its schema, in order.
    typealias Properties = [(name: String, schema: String)]

    static let orderPlacedProperties: Properties = [
        ("orderId", #"{"type": "string", "minLength": 1}"#),
        ("customerId", #"{"type": "string", "minLength": 1}"#),
        ("totalCents", #"{"type": "integer", "minimum": 0}"#),
        ("occurredAt", #"{"type": "string", "format": "date-time"}"#),
    ]
    static let orderPlacedRequired = ["orderId", "customerId", "totalCents", "occurredAt"]

    /// An object schema with these properties (name → schema JSON).
    static func schema(
        _ properties: Properties = orderPlacedProperties,
        required: [String] = orderPlacedRequired,
        additionalProperties: String = "false"
    ) -> String {
        let members = properties.map { "\"\($0.name)\": \($0.schema)" }.joined(separator: ", ")
        let names = required.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": [\(names)], \
            "additionalProperties": \(additionalProperties), "properties": {\(members)}}
            """
    }

    /// `orderPlacedProperties` with `name` replaced, added (`fragment` non-nil) or removed.
    static func orderPlaced(with name: String, _ fragment: String?) -> Properties {
        var properties = orderPlacedProperties
        properties.removeAll { $0.name == name }
        if let fragment { properties.append((name, fragment)) }
        return properties
    }

    static let orderPlacedExample = #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": 4998, "occurredAt": "2026-11-24T22:26:00.000Z"}"#

    /// A contract set with one event whose schema (and, unless given, snapshot) is `schema`.
    static func contracts(
        type: String = "order.placed",
        schema: String = schema(),
        snapshot: String? = nil,
        example: String = orderPlacedExample,
        descriptors: Google_Protobuf_FileDescriptorSet = descriptorSet()
    ) throws -> ContractSet {
        ContractSet(
            events: [DeclaredEvent(type: type, example: .success(Array(example.utf8)))],
            schemas: [type: Array(schema.utf8)],
            eventSnapshots: [type: Array((snapshot ?? schema).utf8)],
            descriptorSet: descriptors,
            protoSnapshot: try ContractSnapshots.protoSnapshot(of: descriptors)
        )
    }

    // MARK: Protos

    /// The article's inventory contract plus a little more: `inventory.proto` with
    /// `Inventory.GetStock(StockRequest) returns (StockResponse)`, `ListStock`, a reservation
    /// message with an enum and a repeated field.
    static func descriptorSet(_ change: (inout Google_Protobuf_FileDescriptorProto) -> Void = { _ in }) -> Google_Protobuf_FileDescriptorSet {
        var file = Google_Protobuf_FileDescriptorProto.with {
            $0.name = "inventory.proto"
            $0.package = "inventory"
            $0.syntax = "proto3"
            $0.messageType = [
                message("StockRequest", [field("sku", 1, .string)]),
                message("StockResponse", [field("sku", 1, .string), field("quantity", 2, .int32)]),
                message("ListStockRequest", [field("page_size", 1, .int32)]),
                message("ListStockResponse", [field("items", 1, .message, typeName: ".inventory.StockResponse", repeated: true)]),
                message("Reservation", [field("order_id", 1, .string), field("status", 2, .enum, typeName: ".inventory.ReservationStatus")]),
            ]
            $0.enumType = [
                .with {
                    $0.name = "ReservationStatus"
                    $0.value = [enumValue("RESERVATION_STATUS_UNSPECIFIED", 0), enumValue("RESERVATION_STATUS_RESERVED", 1), enumValue("RESERVATION_STATUS_CONFIRMED", 2)]
                }
            ]
            $0.service = [
                .with {
                    $0.name = "Inventory"
                    $0.method = [method("GetStock", "StockRequest", "StockResponse"), method("ListStock", "ListStockRequest", "ListStockResponse")]
                }
            ]
        }
        change(&file)
        return .with { $0.file = [file] }
    }

    static func message(_ name: String, _ fields: [Google_Protobuf_FieldDescriptorProto]) -> Google_Protobuf_DescriptorProto {
        .with {
            $0.name = name
            $0.field = fields
        }
    }

    static func field(
        _ name: String,
        _ number: Int32,
        _ type: Google_Protobuf_FieldDescriptorProto.TypeEnum,
        typeName: String? = nil,
        repeated: Bool = false
    ) -> Google_Protobuf_FieldDescriptorProto {
        .with {
            $0.name = name
            $0.number = number
            $0.type = type
            $0.label = repeated ? .repeated : .optional
            if let typeName { $0.typeName = typeName }
        }
    }

    static func enumValue(_ name: String, _ number: Int32) -> Google_Protobuf_EnumValueDescriptorProto {
        .with {
            $0.name = name
            $0.number = number
        }
    }

    static func method(_ name: String, _ input: String, _ output: String) -> Google_Protobuf_MethodDescriptorProto {
        .with {
            $0.name = name
            $0.inputType = ".inventory.\(input)"
            $0.outputType = ".inventory.\(output)"
        }
    }
}
