package import SwiftProtobuf

/// Whether the current protobuf contracts can replace their committed snapshot without breaking
/// a client or server built from the snapshot.
///
/// Symbols are matched by fully-qualified name, so moving a message between files of the same
/// package is fine; a file disappearing is still reported, because importers break. Rejected:
/// - a removed file, service, RPC, message, enum, field or enum value (a field or value whose
///   number the new version reserves counts as removed on purpose);
/// - a field number reused by a field with another name, or a reserved number or name taken
///   back into use;
/// - a field retyped: scalar type, label (singular/repeated), or message/enum type name;
/// - an RPC whose input type, output type or streaming changed.
/// Fields, RPCs, messages and files may be added. Source info (comments) is never compared.
package enum ProtoCompatibility {
    /// Every incompatible difference between `snapshot` (committed) and `current`.
    /// - Parameters:
    ///   - current: The descriptor set the code was generated from.
    ///   - snapshot: `Contracts/snapshots/protos.binpb`.
    package static func findings(
        current: Google_Protobuf_FileDescriptorSet,
        snapshot: Google_Protobuf_FileDescriptorSet
    ) -> [ContractFinding] {
        let old = ProtoSymbols(snapshot)
        let new = ProtoSymbols(current)
        var findings: [ContractFinding] = []
        func reject(_ subject: String, _ message: String) {
            findings.append(ContractFinding(rule: .protoCompatibility, subject: subject, message: message))
        }

        for file in old.files.subtracting(new.files).sorted() {
            reject(file, "file removed; code that imports it no longer compiles")
        }
        for (name, oldService) in old.services.sorted(by: { $0.key < $1.key }) {
            guard let newService = new.services[name] else {
                reject(name, "service removed; its clients get UNIMPLEMENTED")
                continue
            }
            let newMethods = Dictionary(newService.method.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for oldMethod in oldService.method {
                let subject = "\(name).\(oldMethod.name)"
                guard let newMethod = newMethods[oldMethod.name] else {
                    reject(subject, "RPC removed; its clients get UNIMPLEMENTED")
                    continue
                }
                if oldMethod.inputType != newMethod.inputType {
                    reject(subject, "input type changed from \(symbol(oldMethod.inputType)) to \(symbol(newMethod.inputType))")
                }
                if oldMethod.outputType != newMethod.outputType {
                    reject(subject, "output type changed from \(symbol(oldMethod.outputType)) to \(symbol(newMethod.outputType))")
                }
                if oldMethod.clientStreaming != newMethod.clientStreaming || oldMethod.serverStreaming != newMethod.serverStreaming {
                    reject(subject, "streaming changed from \(streaming(oldMethod)) to \(streaming(newMethod))")
                }
            }
        }
        for (name, oldMessage) in old.messages.sorted(by: { $0.key < $1.key }) {
            guard let newMessage = new.messages[name] else {
                reject(name, "message removed")
                continue
            }
            compareFields(oldMessage, newMessage, message: name, reject: reject)
        }
        for (name, oldEnum) in old.enums.sorted(by: { $0.key < $1.key }) {
            guard let newEnum = new.enums[name] else {
                reject(name, "enum removed")
                continue
            }
            compareValues(oldEnum, newEnum, enumName: name, reject: reject)
        }
        return findings
    }

    private static func compareFields(
        _ old: Google_Protobuf_DescriptorProto,
        _ new: Google_Protobuf_DescriptorProto,
        message: String,
        reject: (String, String) -> Void
    ) {
        let newByNumber = Dictionary(new.field.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
        let reservedNow = { (number: Int32) in new.reservedRange.contains { $0.start <= number && number < $0.end } }
        for oldField in old.field.sorted(by: { $0.number < $1.number }) {
            let subject = "\(message).\(oldField.name)"
            guard let newField = newByNumber[oldField.number] else {
                if !reservedNow(oldField.number) {
                    reject(subject, "field \(oldField.number) removed; reserve its number (and name) instead of deleting it")
                }
                continue
            }
            if newField.name != oldField.name {
                reject(subject, "field number \(oldField.number) is reused by \"\(newField.name)\" (was \"\(oldField.name)\"); add a new number and reserve this one")
            }
            if describe(newField) != describe(oldField) {
                reject(subject, "field \(oldField.number) retyped from \(describe(oldField)) to \(describe(newField))")
            }
        }
        // Numbers and names the snapshot reserved belong to removed fields: using them again
        // makes old writers' bytes mean something else.
        for newField in new.field.sorted(by: { $0.number < $1.number }) {
            let subject = "\(message).\(newField.name)"
            if old.reservedRange.contains(where: { $0.start <= newField.number && newField.number < $0.end }) {
                reject(subject, "field number \(newField.number) was reserved; a removed field's number is never reused")
            } else if old.reservedName.contains(newField.name) {
                reject(subject, "field name \"\(newField.name)\" was reserved; a removed field's name is never reused")
            }
        }
    }

    private static func compareValues(
        _ old: Google_Protobuf_EnumDescriptorProto,
        _ new: Google_Protobuf_EnumDescriptorProto,
        enumName: String,
        reject: (String, String) -> Void
    ) {
        // Several names may share a number (allow_alias): compare each number's set of names.
        let oldNames = Dictionary(grouping: old.value, by: \.number).mapValues { Set($0.map(\.name)) }
        let newNames = Dictionary(grouping: new.value, by: \.number).mapValues { Set($0.map(\.name)) }
        // Enum reserved ranges are inclusive, unlike message ones.
        let reservedNow = { (number: Int32) in new.reservedRange.contains { $0.start <= number && number <= $0.end } }
        for (number, names) in oldNames.sorted(by: { $0.key < $1.key }) {
            let subject = "\(enumName).\(names.sorted().joined(separator: "|"))"
            guard let current = newNames[number] else {
                if !reservedNow(number) {
                    reject(subject, "enum value \(number) removed; reserve it instead")
                }
                continue
            }
            if current.isDisjoint(with: names) {
                reject(subject, "enum value \(number) is reused by \(current.sorted().joined(separator: "|"))")
            }
        }
        for value in new.value where old.reservedRange.contains(where: { $0.start <= value.number && value.number <= $0.end }) {
            reject("\(enumName).\(value.name)", "enum value \(value.number) was reserved; a removed value's number is never reused")
        }
    }

    /// `repeated int32`, `inventory.StockResponse`, `optional string` (proto3 `optional`).
    static func describe(_ field: Google_Protobuf_FieldDescriptorProto) -> String {
        let label: String
        switch field.label {
        case .repeated: label = "repeated "
        case .required: label = "required "
        case .optional: label = ""
        }
        let type: String
        switch field.type {
        case .message, .enum, .group: type = symbol(field.typeName)
        case .double: type = "double"
        case .float: type = "float"
        case .int64: type = "int64"
        case .uint64: type = "uint64"
        case .int32: type = "int32"
        case .fixed64: type = "fixed64"
        case .fixed32: type = "fixed32"
        case .bool: type = "bool"
        case .string: type = "string"
        case .bytes: type = "bytes"
        case .uint32: type = "uint32"
        case .sfixed32: type = "sfixed32"
        case .sfixed64: type = "sfixed64"
        case .sint32: type = "sint32"
        case .sint64: type = "sint64"
        }
        return label + type
    }

    /// `.inventory.StockRequest` → `inventory.StockRequest`.
    private static func symbol(_ typeName: String) -> String {
        typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
    }

    private static func streaming(_ method: Google_Protobuf_MethodDescriptorProto) -> String {
        switch (method.clientStreaming, method.serverStreaming) {
        case (false, false): "unary"
        case (true, false): "client streaming"
        case (false, true): "server streaming"
        case (true, true): "bidirectional streaming"
        }
    }
}

/// A descriptor set's declarations by fully-qualified name (no leading dot).
struct ProtoSymbols {
    var files: Set<String> = []
    var services: [String: Google_Protobuf_ServiceDescriptorProto] = [:]
    var messages: [String: Google_Protobuf_DescriptorProto] = [:]
    var enums: [String: Google_Protobuf_EnumDescriptorProto] = [:]

    init(_ set: Google_Protobuf_FileDescriptorSet) {
        for file in set.file {
            files.insert(file.name)
            let prefix = file.package.isEmpty ? "" : "\(file.package)."
            for service in file.service { services[prefix + service.name] = service }
            for enumType in file.enumType { enums[prefix + enumType.name] = enumType }
            addMessages(file.messageType, scope: prefix)
        }
    }

    private mutating func addMessages(_ types: [Google_Protobuf_DescriptorProto], scope: String) {
        for type in types {
            let name = scope + type.name
            messages[name] = type
            for enumType in type.enumType { enums["\(name).\(enumType.name)"] = enumType }
            addMessages(type.nestedType, scope: "\(name).")
        }
    }
}
