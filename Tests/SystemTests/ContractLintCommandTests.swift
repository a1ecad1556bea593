import Foundation
import SwitchyardTestSupport
import Testing

@Suite("switchyard lint contracts")
struct ContractLintCommandTests {
    @Test("The repository's contracts pass: exit 0 and an OK summary")
    func repositoryPasses() async throws {
        let lint = try ManagedProcess(
            name: "switchyard lint contracts",
            executable: PackagePaths.switchyardBinary,
            arguments: ["lint", "contracts", "--root", PackagePaths.root.path]
        )
        defer { lint.stop() }
        #expect(try await lint.waitForExit() == 0, "\(lint.standardOutput)\(lint.standardError)")
        #expect(lint.standardOutput.hasPrefix("contracts OK:"), "\(lint.standardOutput)")
    }

    @Test("An incompatible schema edit in a copy of the contracts fails naming the finding; --update-snapshots refuses it until --allow-breaking")
    func incompatibleSchemaFails() async throws {
        let root = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-lint")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.copyItem(at: PackagePaths.root.appendingPathComponent("Contracts"), to: root.appendingPathComponent("Contracts"))
        // Widen totalCents to any number: still matches the catalogue's example, but consumers
        // built against the snapshot decode an integer.
        let schemaURL = root.appendingPathComponent("Contracts/events/order.placed.schema.json")
        let schema = try String(contentsOf: schemaURL, encoding: .utf8)
        let widened = schema.replacingOccurrences(of: #""totalCents": { "type": "integer""#, with: #""totalCents": { "type": "number""#)
        #expect(widened != schema)
        try widened.write(to: schemaURL, atomically: true, encoding: .utf8)

        let lint = try ManagedProcess(
            name: "switchyard lint contracts",
            executable: PackagePaths.switchyardBinary,
            arguments: ["lint", "contracts", "--root", root.path]
        )
        defer { lint.stop() }
        #expect(try await lint.waitForExit() != 0)
        let lines = lint.standardOutput.split(separator: "\n")
        #expect(
            lines == ["[event-compatibility] order.placed#/properties/totalCents: type changed from integer to number"],
            "\(lint.standardOutput)"
        )

        // Refreshing the snapshots refuses the breaking change unless it is accepted on purpose.
        let update = try ManagedProcess(
            name: "switchyard lint contracts --update-snapshots",
            executable: PackagePaths.switchyardBinary,
            arguments: ["lint", "contracts", "--root", root.path, "--update-snapshots"]
        )
        defer { update.stop() }
        #expect(try await update.waitForExit() != 0)
        #expect(update.standardError.contains("--allow-breaking"), "\(update.standardError)")

        // Accepted deliberately, the snapshot follows and the copy checks clean.
        let accept = try ManagedProcess(
            name: "switchyard lint contracts --update-snapshots --allow-breaking",
            executable: PackagePaths.switchyardBinary,
            arguments: ["lint", "contracts", "--root", root.path, "--update-snapshots", "--allow-breaking"]
        )
        defer { accept.stop() }
        #expect(try await accept.waitForExit() == 0, "\(accept.standardOutput)\(accept.standardError)")
        #expect(accept.standardOutput.contains("updated snapshots: Contracts/snapshots/events/order.placed.schema.json"))
        let recheck = try ManagedProcess(
            name: "switchyard lint contracts (after update)",
            executable: PackagePaths.switchyardBinary,
            arguments: ["lint", "contracts", "--root", root.path]
        )
        defer { recheck.stop() }
        #expect(try await recheck.waitForExit() == 0, "\(recheck.standardOutput)")
    }
}
