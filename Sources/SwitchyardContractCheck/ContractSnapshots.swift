package import SwiftProtobuf

/// What `--update-snapshots` writes and when it may: the snapshots are the contracts as last
/// accepted, so they are only refreshed from contracts that pass every other rule, and an
/// incompatible change is only accepted on purpose (`--allow-breaking`).
package enum ContractSnapshots {
    /// Where the event schema snapshots live, relative to the package root.
    package static let eventSnapshotDirectory = "Contracts/snapshots/events"
    /// Where the proto snapshot lives, relative to the package root.
    package static let protoSnapshotPath = "Contracts/snapshots/protos.binpb"

    /// Whether snapshots may be written after `report`.
    package enum Decision: Sendable, Equatable {
        /// Write them; `accepting` lists the breaking changes `--allow-breaking` accepted.
        case write(accepting: [ContractFinding])
        /// Do not: `blocking` must be fixed first (or, for breaking changes, accepted).
        case refuse(blocking: [ContractFinding], reason: String)
    }

    /// Decides whether `--update-snapshots` may write.
    /// - Parameters:
    ///   - report: The check's report on the contracts to snapshot.
    ///   - allowBreaking: Whether incompatible changes are accepted deliberately.
    package static func decide(_ report: ContractReport, allowBreaking: Bool) -> Decision {
        // Missing or unreadable snapshots are what an update repairs.
        let relevant = report.findings.filter { $0.rule != .snapshot }
        let invalid = relevant.filter { !$0.rule.isCompatibility }
        if !invalid.isEmpty {
            return .refuse(blocking: invalid, reason: "the contracts break other rules; fix them before snapshotting")
        }
        if !relevant.isEmpty && !allowBreaking {
            return .refuse(
                blocking: relevant,
                reason: "these changes break consumers; pass --allow-breaking to accept them deliberately (and coordinate the release)"
            )
        }
        return .write(accepting: relevant)
    }

    /// The snapshot of the protobuf contracts: the descriptor set without source info (comments
    /// are not contract), serialized deterministically so an unchanged contract gives the same
    /// bytes.
    package static func protoSnapshot(of set: Google_Protobuf_FileDescriptorSet) throws -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try withoutSourceInfo(set).serializedBytes(options: options)
    }

    static func withoutSourceInfo(_ set: Google_Protobuf_FileDescriptorSet) -> Google_Protobuf_FileDescriptorSet {
        var stripped = set
        for index in stripped.file.indices { stripped.file[index].clearSourceCodeInfo() }
        return stripped
    }
}
