package import SwiftProtobuf

/// One event type as the catalogue declares it.
package struct DeclaredEvent: Sendable {
    /// The event type, e.g. `order.placed`.
    package var type: String
    /// The catalogue's example, encoded as the event's JSON body, or why encoding failed.
    package var example: Result<[UInt8], any Error>

    /// - Parameters:
    ///   - type: The event type.
    ///   - example: The example's JSON body, or the error encoding it threw.
    package init(type: String, example: Result<[UInt8], any Error>) {
        self.type = type
        self.example = example
    }
}

/// Everything the contract check looks at, already read: the rules do no I/O, so tests hand
/// them contracts built in memory and `ContractRepository` hands them the repository's.
package struct ContractSet: Sendable {
    /// `EventCatalog.all`, in order.
    package var events: [DeclaredEvent]
    /// The committed JSON Schemas (`Contracts/events/<type>.schema.json`) by event type.
    package var schemas: [String: [UInt8]]
    /// Their snapshots (`Contracts/snapshots/events/<type>.schema.json`) by event type.
    package var eventSnapshots: [String: [UInt8]]
    /// The descriptor set the generated code was built from (`GeneratedDescriptorSet`).
    package var descriptorSet: Google_Protobuf_FileDescriptorSet
    /// `Contracts/snapshots/protos.binpb`, or `nil` when there is none.
    package var protoSnapshot: [UInt8]?

    /// - Parameters:
    ///   - events: The catalogue's declarations.
    ///   - schemas: Committed schemas by event type.
    ///   - eventSnapshots: Committed schema snapshots by event type.
    ///   - descriptorSet: The current protobuf contracts.
    ///   - protoSnapshot: The serialized snapshot `FileDescriptorSet`, if one is committed.
    package init(
        events: [DeclaredEvent],
        schemas: [String: [UInt8]],
        eventSnapshots: [String: [UInt8]],
        descriptorSet: Google_Protobuf_FileDescriptorSet,
        protoSnapshot: [UInt8]?
    ) {
        self.events = events
        self.schemas = schemas
        self.eventSnapshots = eventSnapshots
        self.descriptorSet = descriptorSet
        self.protoSnapshot = protoSnapshot
    }
}

/// What one run of the check found.
package struct ContractReport: Sendable {
    /// Every rejection, sorted by subject; empty when the contracts pass.
    package var findings: [ContractFinding]
    /// The catalogued event types checked.
    package var eventTypes: [String]
    /// Counts of what the proto check covered.
    package var protoFiles = 0, services = 0, rpcs = 0
    /// Contracts that changed compatibly since their snapshot (`order.placed`, `protos`):
    /// refresh the snapshots so later changes are judged against them.
    package var changedSinceSnapshot: [String] = []

    /// The one-line OK summary the CLI prints when there are no findings.
    package var summary: String {
        let snapshots = changedSinceSnapshot.isEmpty
            ? "snapshots up to date"
            : "compatible changes not yet in the snapshots: \(changedSinceSnapshot.joined(separator: ", ")) (run `switchyard lint contracts --update-snapshots`)"
        return "contracts OK: \(eventTypes.count) event types (\(eventTypes.joined(separator: ", "))), "
            + "\(protoFiles) proto files with \(services) services and \(rpcs) RPCs; \(snapshots)"
    }
}

/// The contract check behind `switchyard lint contracts`: event naming, command-like fields,
/// `occurredAt`, examples against schemas, and compatibility of event schemas and protos with
/// their committed snapshots.
///
/// ```swift
/// let report = ContractCheck.run(try ContractRepository(root: root).load())
/// for finding in report.findings { print(finding) }
/// ```
package enum ContractCheck {
    /// Runs every rule over `contracts`.
    package static func run(_ contracts: ContractSet) -> ContractReport {
        var findings: [ContractFinding] = []
        var changed: [String] = []
        let catalogued = checkCatalogue(contracts, into: &findings)
        var checked: Set<String> = []
        for event in contracts.events where catalogued.contains(event.type) && checked.insert(event.type).inserted {
            findings += EventNameRule.findings(type: event.type)
            if let bytes = contracts.schemas[event.type], let schema = parseSchema(bytes, subject: event.type, into: &findings) {
                findings += checkSchema(schema, event: event)
            }
        }
        checkEventSnapshots(contracts, findings: &findings, changed: &changed)
        checkProtoSnapshot(contracts, findings: &findings, changed: &changed)

        let files = contracts.descriptorSet.file
        var report = ContractReport(findings: findings.sorted(), eventTypes: contracts.events.map(\.type))
        report.protoFiles = files.count
        report.services = files.reduce(0) { $0 + $1.service.count }
        report.rpcs = files.reduce(0) { $0 + $1.service.reduce(0) { $0 + $1.method.count } }
        report.changedSinceSnapshot = changed
        return report
    }

    /// The catalogued types; finds duplicate declarations, and types and schema files without
    /// a counterpart.
    private static func checkCatalogue(_ contracts: ContractSet, into findings: inout [ContractFinding]) -> Set<String> {
        var seen: Set<String> = []
        for event in contracts.events where !seen.insert(event.type).inserted {
            findings.append(ContractFinding(rule: .eventCatalogue, subject: event.type, message: "declared more than once in EventCatalog.all"))
        }
        for type in seen.sorted() where contracts.schemas[type] == nil {
            findings.append(
                ContractFinding(rule: .eventCatalogue, subject: type, message: "catalogued in EventCatalog.all but has no schema Contracts/events/\(type).schema.json")
            )
        }
        for type in contracts.schemas.keys.sorted() where !seen.contains(type) {
            findings.append(
                ContractFinding(rule: .eventCatalogue, subject: type, message: "Contracts/events/\(type).schema.json has no declaration in EventCatalog.all")
            )
        }
        return seen
    }

    /// Every rule that looks at one event's schema and example.
    static func checkSchema(_ schema: JSONSchema, event: DeclaredEvent) -> [ContractFinding] {
        var findings: [ContractFinding] = []
        if schema.types != [.object] {
            findings.append(ContractFinding(rule: .schema, subject: event.type, message: "an event body is a JSON object: the schema needs \"type\": \"object\""))
        }
        findings += CommandFieldRule.findings(in: schema, type: event.type)
        findings += OccurredAtRule.findings(in: schema, type: event.type)
        switch event.example {
        case .failure(let error):
            findings.append(ContractFinding(rule: .example, subject: event.type, message: "the catalogue's example could not be encoded: \(error)"))
        case .success(let bytes):
            guard let instance = try? JSONValue(parsing: bytes) else {
                findings.append(ContractFinding(rule: .example, subject: event.type, message: "the catalogue's example is not JSON"))
                break
            }
            for violation in schema.validate(instance) {
                findings.append(ContractFinding(rule: .example, subject: event.type, message: "the catalogue's example does not validate: \(violation)"))
            }
            findings += CommandFieldRule.findings(inInstance: instance, subject: "\(event.type) example")
        }
        return findings
    }

    private static func checkEventSnapshots(_ contracts: ContractSet, findings: inout [ContractFinding], changed: inout [String]) {
        for (type, bytes) in contracts.schemas.sorted(by: { $0.key < $1.key }) {
            guard let snapshotBytes = contracts.eventSnapshots[type] else {
                findings.append(
                    ContractFinding(
                        rule: .snapshot,
                        subject: type,
                        message: "no snapshot Contracts/snapshots/events/\(type).schema.json to check compatibility against; run `switchyard lint contracts --update-snapshots` and commit it"
                    )
                )
                continue
            }
            guard snapshotBytes != bytes else { continue }
            var silent: [ContractFinding] = []  // the schema's own problems are reported above
            guard let current = parseSchema(bytes, subject: type, into: &silent) else { continue }
            guard let snapshot = parseSchema(snapshotBytes, subject: type, rule: .snapshot, into: &findings) else { continue }
            let incompatible = EventSchemaCompatibility.findings(current: current, snapshot: snapshot, type: type)
            findings += incompatible
            if incompatible.isEmpty { changed.append(type) }
        }
        for type in contracts.eventSnapshots.keys.sorted() where contracts.schemas[type] == nil {
            findings.append(
                ContractFinding(rule: .eventCompatibility, subject: type, message: "event type removed; its consumers and the events in the log still use it")
            )
        }
    }

    private static func checkProtoSnapshot(_ contracts: ContractSet, findings: inout [ContractFinding], changed: inout [String]) {
        guard let bytes = contracts.protoSnapshot else {
            findings.append(
                ContractFinding(
                    rule: .snapshot,
                    subject: ContractSnapshots.protoSnapshotPath,
                    message: "no proto snapshot to check compatibility against; run `switchyard lint contracts --update-snapshots` and commit it"
                )
            )
            return
        }
        let snapshot: Google_Protobuf_FileDescriptorSet
        do {
            snapshot = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        } catch {
            findings.append(ContractFinding(rule: .snapshot, subject: ContractSnapshots.protoSnapshotPath, message: "not a serialized FileDescriptorSet: \(error)"))
            return
        }
        let incompatible = ProtoCompatibility.findings(current: contracts.descriptorSet, snapshot: snapshot)
        findings += incompatible
        if incompatible.isEmpty, ContractSnapshots.withoutSourceInfo(contracts.descriptorSet) != ContractSnapshots.withoutSourceInfo(snapshot) {
            changed.append("protos")
        }
    }

    private static func parseSchema(
        _ bytes: [UInt8],
        subject: String,
        rule: ContractRule = .schema,
        into findings: inout [ContractFinding]
    ) -> JSONSchema? {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch {
            findings.append(ContractFinding(rule: rule, subject: subject, message: "not valid JSON"))
            return nil
        }
        do {
            return try JSONSchema(json)
        } catch {
            findings.append(ContractFinding(rule: rule, subject: subject, message: "unusable schema: \(error)"))
            return nil
        }
    }
}
