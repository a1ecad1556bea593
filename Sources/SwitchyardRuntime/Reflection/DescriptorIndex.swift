package import Foundation
import SwiftProtobuf

/// The files of a serialized `FileDescriptorSet`, indexed the ways server reflection asks:
/// by file name and by the fully-qualified symbols each file declares.
package struct DescriptorIndex: Sendable {
    /// Serialized `FileDescriptorProto`s by file name, exactly as protoc wrote them.
    private let serializedFiles: [String: Data]
    /// Each file's direct imports, to answer with a file and everything it needs.
    private let dependencies: [String: [String]]
    /// Fully-qualified symbol → declaring file: packages' messages (nested too), enums,
    /// services, methods and extensions.
    private let fileBySymbol: [String: String]
    /// Fully-qualified message names, to answer extension-number queries.
    private let messageTypes: Set<String>

    /// Indexes a serialized `google.protobuf.FileDescriptorSet`.
    /// - Throws: `DescriptorIndexError.undecodable` when the bytes are not a descriptor set.
    package init(serializedFileDescriptorSet data: Data) throws {
        let set: Google_Protobuf_FileDescriptorSet
        do {
            set = try Google_Protobuf_FileDescriptorSet(serializedBytes: data)
        } catch {
            throw DescriptorIndexError.undecodable("\(error)")
        }
        var files: [String: Data] = [:]
        var dependencies: [String: [String]] = [:]
        var symbols: [String: String] = [:]
        var messages: Set<String> = []
        for file in set.file {
            files[file.name] = try file.serializedBytes()
            dependencies[file.name] = file.dependency
            let prefix = file.package.isEmpty ? "" : "\(file.package)."
            func addMessages(_ types: [Google_Protobuf_DescriptorProto], scope: String) {
                for type in types {
                    let name = scope + type.name
                    symbols[name] = file.name
                    messages.insert(name)
                    for nested in type.enumType { symbols["\(name).\(nested.name)"] = file.name }
                    for extensionField in type.extension { symbols["\(name).\(extensionField.name)"] = file.name }
                    addMessages(type.nestedType, scope: "\(name).")
                }
            }
            addMessages(file.messageType, scope: prefix)
            for enumType in file.enumType { symbols[prefix + enumType.name] = file.name }
            for extensionField in file.extension { symbols[prefix + extensionField.name] = file.name }
            for service in file.service {
                symbols[prefix + service.name] = file.name
                for method in service.method { symbols["\(prefix)\(service.name).\(method.name)"] = file.name }
            }
        }
        self.serializedFiles = files
        self.dependencies = dependencies
        self.fileBySymbol = symbols
        self.messageTypes = messages
    }

    /// Indexes the base64 text `scripts/generate-protos` embeds in `GeneratedDescriptorSet`.
    package init(base64: String) throws {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) else {
            throw DescriptorIndexError.undecodable("not base64")
        }
        try self.init(serializedFileDescriptorSet: data)
    }

    /// The file that declares `symbol`, or `nil`.
    package func fileName(declaring symbol: String) -> String? {
        fileBySymbol[symbol]
    }

    /// Whether `name` is a message type this index knows.
    package func hasMessageType(_ name: String) -> Bool {
        messageTypes.contains(name)
    }

    /// `name` and every file it imports, transitively, each once, `name` first; `nil` when the
    /// index lacks `name`. Reflection clients need the imports to build a usable descriptor.
    package func serializedFileWithDependencies(_ name: String) -> [Data]? {
        guard serializedFiles[name] != nil else { return nil }
        var ordered: [String] = []
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            ordered.append(next)
            pending.append(contentsOf: (dependencies[next] ?? []).reversed())
        }
        return ordered.compactMap { serializedFiles[$0] }
    }
}

package enum DescriptorIndexError: Error, CustomStringConvertible {
    case undecodable(String)

    package var description: String {
        switch self {
        case .undecodable(let reason): "the embedded descriptor set cannot be decoded: \(reason)"
        }
    }
}
