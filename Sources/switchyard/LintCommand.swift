import ArgumentParser
import Foundation
import SwitchyardContractCheck

/// `switchyard lint`: checks that keep the project's contracts honest.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check the project's contracts.",
        subcommands: [LintContractsCommand.self]
    )
}

/// `switchyard lint contracts`: the event and protobuf contract check (ContractCheck). Prints
/// one line per finding and exits 1, or a one-line OK summary. With `--update-snapshots` it
/// refreshes `Contracts/snapshots/` from the current contracts, refusing incompatible changes
/// unless `--allow-breaking` accepts them.
struct LintContractsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts",
        abstract: "Check event schemas and .proto contracts against the rules and their committed snapshots.",
        discussion: """
            Events must be named <entity>.<past participle>, carry no command-like fields, \
            require an occurredAt date-time, and match their catalogue example; event schemas and \
            the protobuf descriptors must stay compatible with Contracts/snapshots/. After a \
            compatible change (or a deliberate breaking one, with --allow-breaking), refresh the \
            snapshots with --update-snapshots and commit them.
            """
    )

    @Option(help: "The package root, holding Contracts/.")
    var root = "."

    @Flag(help: "Write Contracts/snapshots/ from the current contracts (refused while any rule fails, and for incompatible changes unless --allow-breaking).")
    var updateSnapshots = false

    @Flag(help: "With --update-snapshots: accept incompatible changes deliberately.")
    var allowBreaking = false

    func validate() throws {
        if allowBreaking && !updateSnapshots {
            throw ValidationError("--allow-breaking only applies with --update-snapshots")
        }
    }

    func run() throws {
        let repository = ContractRepository(root: URL(fileURLWithPath: root))
        let contracts = try repository.load()
        let report = ContractCheck.run(contracts)

        guard updateSnapshots else {
            guard report.findings.isEmpty else {
                for finding in report.findings { Console.announce(finding.description) }
                Self.complain("lint contracts: \(report.findings.count) finding(s)")
                throw ExitCode.failure
            }
            Console.announce(report.summary)
            return
        }

        switch ContractSnapshots.decide(report, allowBreaking: allowBreaking) {
        case .refuse(let blocking, let reason):
            for finding in blocking { Console.announce(finding.description) }
            Self.complain("lint contracts: snapshots not updated: \(reason)")
            throw ExitCode.failure
        case .write(let accepted):
            for finding in accepted { Console.announce("accepted breaking change: \(finding.description)") }
            let written = try repository.writeSnapshots(of: contracts)
            Console.announce(written.isEmpty ? "snapshots already up to date" : "updated snapshots: \(written.joined(separator: ", "))")
        }
    }

    /// The verdict line goes to stderr, so stdout holds exactly one line per finding.
    private static func complain(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
