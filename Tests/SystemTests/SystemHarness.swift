import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwitchyardTestSupport
import Testing

/// Starting real processes: the `switchyard` binary and Python peers from the project venv.
enum SystemHarness {
    static let pythonDirectory = PackagePaths.root.appendingPathComponent("Tests/SystemTests/Python")

    /// Starts `switchyard serve inventory` on a free port with its own data directory.
    static func startInventory(dataDirectory: URL, extraArguments: [String] = []) async throws -> (ManagedProcess, Int) {
        let process = try ManagedProcess(
            name: "switchyard serve inventory",
            executable: PackagePaths.switchyardBinary,
            arguments: ["serve", "inventory", "--port", "0", "--seed-demo-catalogue", "--data-directory", dataDirectory.path, "--log-level", "notice"]
                + extraArguments
        )
        let port = try await process.waitForListeningPort("inventory gRPC")
        return (process, port)
    }

    /// The venv's Python, or a failure telling how to create it.
    static func python() throws -> URL {
        let python = PackagePaths.python
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw SetupMissing(what: "the project venv (\(python.path)); run scripts/test or scripts/ensure-python-tools")
        }
        return python
    }

    /// Generates Python stubs for the article's .proto into a fresh directory, as a Python
    /// team would with grpc_tools.protoc, and returns that directory.
    static func generateArticleStubs() async throws -> URL {
        let output = try PackagePaths.makeTemporaryDirectory(prefix: "article-stubs")
        let protoc = try ManagedProcess(
            name: "grpc_tools.protoc",
            executable: try python(),
            arguments: [
                "-m", "grpc_tools.protoc", "-I", pythonDirectory.appendingPathComponent("proto").path,
                "--python_out=\(output.path)", "--grpc_python_out=\(output.path)", "inventory.proto",
            ]
        )
        let status = try await protoc.waitForExit(timeout: .seconds(120))
        guard status == 0 else { throw ProcessExited(name: protoc.name, status: status, stdout: protoc.standardOutput, stderr: protoc.standardError) }
        return output
    }

    /// Runs a Python script from Tests/SystemTests/Python to completion and returns its stdout.
    static func runPython(_ script: String, _ arguments: [String], stubs: URL? = nil) async throws -> String {
        let process = try ManagedProcess(
            name: script,
            executable: try python(),
            arguments: [pythonDirectory.appendingPathComponent(script).path] + arguments,
            environment: stubs.map { ["PYTHONPATH": $0.path] } ?? [:]
        )
        let status = try await process.waitForExit(timeout: .seconds(120))
        guard status == 0 else { throw ProcessExited(name: script, status: status, stdout: process.standardOutput, stderr: process.standardError) }
        return process.standardOutput
    }
}

struct SetupMissing: Error, CustomStringConvertible {
    var what: String
    var description: String { "missing \(what)" }
}
