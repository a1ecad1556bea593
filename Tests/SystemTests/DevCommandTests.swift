import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardTestSupport
import Testing

@Suite("switchyard dev and config")
struct DevCommandTests {
    @Test("dev starts every service, prints where each listens, serves the demo catalogue, and stops on Ctrl-C")
    func devRunsAndStops() async throws {
        let data = try PackagePaths.makeTemporaryDirectory()
        let dev = try ManagedProcess(
            name: "switchyard dev",
            executable: PackagePaths.switchyardBinary,
            arguments: ["dev", "--port", "0", "--inventory-port", "0", "--orders-port", "0", "--data-directory", data.path, "--log-format", "json"]
        )
        defer { dev.stop() }
        let port = try await dev.waitForListeningPort("inventory gRPC")
        _ = try await dev.waitForListeningPort("orders gRPC")
        _ = try await dev.waitForListeningPort("gateway HTTP")
        let stock = try await withLoopbackGRPCClient(port: port) { grpc in
            try await Inventory_Inventory.Client(wrapping: grpc).listStock(.with { _ in })
        }
        #expect(stock.items.map(\.sku) == ["sku-1", "sku-2", "sku-3", "sku-4", "sku-5"])
        dev.send(signal: SIGINT)
        #expect(try await dev.waitForExit() == 0)
        // --log-format json: every log line is a JSON object.
        let lines = dev.standardError.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
        }
    }

    @Test("Every configuration key is documented in the README with its environment variable")
    func readmeDocumentsEveryKey() async throws {
        let config = try ManagedProcess(name: "switchyard config", executable: PackagePaths.switchyardBinary, arguments: ["config"])
        #expect(try await config.waitForExit() == 0)
        let variables = config.standardOutput.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("SWITCHYARD_") }.map(String.init)
        }
        #expect(variables.count >= 30)
        let readme = try String(contentsOf: PackagePaths.root.appendingPathComponent("README.md"), encoding: .utf8)
        for variable in variables {
            #expect(readme.contains(variable), "README.md does not document \(variable)")
        }
    }
}
