import Foundation
import SwitchyardContractCheck
import SwitchyardContracts
import SwitchyardTestSupport
import Testing

@Suite("The repository's own contracts")
struct RepositoryContractsTests {
    @Test("The committed event schemas, catalogue and protos pass every rule, and the snapshots are up to date")
    func repositoryContractsPass() throws {
        let report = ContractCheck.run(try ContractRepository(root: PackagePaths.root).load())
        #expect(report.findings == [], "\(report.findings.map(\.description).joined(separator: "\n"))")
        #expect(report.eventTypes == EventCatalog.all.map(\.type))
        #expect(report.changedSinceSnapshot == [], "run `switchyard lint contracts --update-snapshots` and commit the snapshots")
        #expect(report.rpcs >= 10)
    }

    @Test("Updating snapshots in a copy writes them, then the copy checks clean; a breaking schema edit is found")
    func snapshotRoundTrip() throws {
        let root = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-contracts")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.copyItem(at: PackagePaths.root.appendingPathComponent("Contracts"), to: root.appendingPathComponent("Contracts"))
        try FileManager.default.removeItem(at: root.appendingPathComponent("Contracts/snapshots"))
        let repository = ContractRepository(root: root)

        let fresh = try repository.load()
        #expect(ContractCheck.run(fresh).findings.allSatisfy { $0.rule == .snapshot })
        #expect(ContractSnapshots.decide(ContractCheck.run(fresh), allowBreaking: false) == .write(accepting: []))
        let written = try repository.writeSnapshots(of: fresh)
        #expect(written.contains(ContractSnapshots.protoSnapshotPath))
        #expect(written.contains("Contracts/snapshots/events/order.placed.schema.json"))
        #expect(ContractCheck.run(try repository.load()).findings == [])
        #expect(try repository.writeSnapshots(of: try repository.load()) == [])

        // The same bytes as the committed snapshot: regenerating never churns it.
        let committed = try Data(contentsOf: PackagePaths.root.appendingPathComponent(ContractSnapshots.protoSnapshotPath))
        #expect(try Data(contentsOf: root.appendingPathComponent(ContractSnapshots.protoSnapshotPath)) == committed)

        let schemaURL = root.appendingPathComponent("Contracts/events/order.placed.schema.json")
        let schema = try String(contentsOf: schemaURL, encoding: .utf8)
        try schema.replacingOccurrences(of: #""totalCents": { "type": "integer""#, with: #""totalCents": { "type": "string""#)
            .write(to: schemaURL, atomically: true, encoding: .utf8)
        let findings = ContractCheck.run(try repository.load()).findings
        #expect(findings.contains { $0.rule == .eventCompatibility && $0.subject == "order.placed#/properties/totalCents" }, "\(findings)")
    }

    @Test("A root without Contracts/events is an error, not a pass")
    func rejectsWrongRoot() throws {
        let root = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-contracts")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: ContractRepositoryError.self) { try ContractRepository(root: root).load() }
    }
}
