package import Foundation
import SwiftProtobuf
package import SwitchyardContracts

/// Reads a checkout's contracts for `ContractCheck` and writes its snapshots: the only part
/// of the check that touches files.
///
/// Event declarations and the descriptor set come from the compiled `SwitchyardContracts`
/// (so they always match the code that runs); schemas and snapshots come from `root`.
package struct ContractRepository: Sendable {
    /// The package root: the directory holding `Contracts/`.
    package var root: URL

    /// - Parameter root: The package root.
    package init(root: URL) {
        self.root = root
    }

    static let schemaSuffix = ".schema.json"
    static let eventSchemaDirectory = "Contracts/events"

    /// Reads everything the check needs.
    /// - Parameters:
    ///   - catalog: The event declarations; `EventCatalog.all` unless a test substitutes.
    ///   - descriptorSetBase64: The current descriptor set; `GeneratedDescriptorSet.base64`.
    /// - Throws: `ContractRepositoryError` when `root` has no `Contracts/events` or the
    ///   generated descriptor set does not decode; file system errors as they come.
    package func load(
        catalog: [EventCatalog.Declaration] = EventCatalog.all,
        descriptorSetBase64: String = GeneratedDescriptorSet.base64
    ) throws -> ContractSet {
        let schemaDirectory = root.appendingPathComponent(Self.eventSchemaDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: schemaDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ContractRepositoryError.notAPackageRoot(root.path)
        }
        guard let descriptorBytes = Data(base64Encoded: descriptorSetBase64, options: .ignoreUnknownCharacters) else {
            throw ContractRepositoryError.undecodableDescriptorSet("not base64")
        }
        let descriptorSet: Google_Protobuf_FileDescriptorSet
        do {
            descriptorSet = try Google_Protobuf_FileDescriptorSet(serializedBytes: descriptorBytes)
        } catch {
            throw ContractRepositoryError.undecodableDescriptorSet("\(error)")
        }
        let protoSnapshotURL = root.appendingPathComponent(ContractSnapshots.protoSnapshotPath)
        return ContractSet(
            events: catalog.map { declaration in
                DeclaredEvent(type: declaration.type, example: Result { try declaration.example() })
            },
            schemas: try schemaFiles(in: schemaDirectory),
            eventSnapshots: try schemaFiles(in: root.appendingPathComponent(ContractSnapshots.eventSnapshotDirectory)),
            descriptorSet: descriptorSet,
            protoSnapshot: FileManager.default.fileExists(atPath: protoSnapshotURL.path) ? Array(try Data(contentsOf: protoSnapshotURL)) : nil
        )
    }

    /// Makes the snapshots match `contracts`: copies each schema byte for byte (so a review
    /// diff of a snapshot is the schema's diff), removes snapshots of event types that no
    /// longer exist, and writes the proto snapshot. Call only after
    /// `ContractSnapshots.decide` said `.write`.
    /// - Returns: The paths (relative to `root`) written or removed; unchanged files are not
    ///   touched and not listed.
    package func writeSnapshots(of contracts: ContractSet) throws -> [String] {
        let fileManager = FileManager.default
        var touched: [String] = []
        let directory = root.appendingPathComponent(ContractSnapshots.eventSnapshotDirectory)
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        for (type, bytes) in contracts.schemas.sorted(by: { $0.key < $1.key }) where contracts.eventSnapshots[type] != bytes {
            try Data(bytes).write(to: directory.appendingPathComponent(type + Self.schemaSuffix), options: .atomic)
            touched.append("\(ContractSnapshots.eventSnapshotDirectory)/\(type)\(Self.schemaSuffix)")
        }
        for type in contracts.eventSnapshots.keys.sorted() where contracts.schemas[type] == nil {
            try fileManager.removeItem(at: directory.appendingPathComponent(type + Self.schemaSuffix))
            touched.append("\(ContractSnapshots.eventSnapshotDirectory)/\(type)\(Self.schemaSuffix) (removed)")
        }
        let protoBytes = try ContractSnapshots.protoSnapshot(of: contracts.descriptorSet)
        if contracts.protoSnapshot != protoBytes {
            try Data(protoBytes).write(to: root.appendingPathComponent(ContractSnapshots.protoSnapshotPath), options: .atomic)
            touched.append(ContractSnapshots.protoSnapshotPath)
        }
        return touched
    }

    /// `<type>.schema.json` files in `directory` by type; empty when the directory is absent.
    private func schemaFiles(in directory: URL) throws -> [String: [UInt8]] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [:] }
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(Self.schemaSuffix) {
            let type = String(name.dropLast(Self.schemaSuffix.count))
            files[type] = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
        }
        return files
    }
}

/// Why the contracts could not be read at all (as opposed to findings about them).
package enum ContractRepositoryError: Error, CustomStringConvertible {
    /// The root has no `Contracts/events` directory.
    case notAPackageRoot(String)
    /// `GeneratedDescriptorSet` does not decode: the generated code is broken.
    case undecodableDescriptorSet(String)

    package var description: String {
        switch self {
        case .notAPackageRoot(let path):
            "\(path) has no \(ContractRepository.eventSchemaDirectory) directory; pass the package root with --root"
        case .undecodableDescriptorSet(let reason):
            "GeneratedDescriptorSet.base64 is not a FileDescriptorSet (\(reason)); run scripts/generate-protos"
        }
    }
}
