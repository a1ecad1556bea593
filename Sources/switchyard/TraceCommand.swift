import AsyncHTTPClient
import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardRuntime

/// `switchyard trace <order-id | trace-id>`: the span tree of a request across every service,
/// from the spans the processes keep in memory (`GET /debug/traces/{id}`). `switchyard dev`
/// keeps them all in one process; for services run apart, name each process's telemetry
/// listener with `--from` and the spans are merged into one tree.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Print the span tree of an order id or a trace id across services, with timings."
    )

    @Argument(help: "An order id (every trace that carried its events) or a trace id (32 hex digits).")
    var id: String

    @Option(help: "A process serving /debug/traces (repeatable; default: the gateway, also SWITCHYARD_GATEWAY_URL).")
    var from: [String] = []

    @Flag(help: "Print the spans as JSON instead of a tree.")
    var json = false

    func run() async throws {
        let sources = from.isEmpty ? [ProcessInfo.processInfo.environment["SWITCHYARD_GATEWAY_URL"] ?? "http://127.0.0.1:8080"] : from
        var spans: [RecordedSpan] = []
        var problems: [String] = []
        for source in sources {
            do {
                spans += try await Self.fetch(id: id, from: source)
            } catch {
                problems.append("\(source): \(error)")
            }
        }
        guard !spans.isEmpty else {
            FileHandle.standardError.write(Data(("no spans for \(id)\n" + problems.map { "  \($0)\n" }.joined()).utf8))
            throw ExitCode(1)
        }
        for problem in problems { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(spans), as: UTF8.self))
        } else {
            print(TraceTreeRenderer.render(spans))
        }
    }

    /// The spans one process keeps for `id`; none when it has no such trace.
    static func fetch(id: String, from source: String) async throws -> [RecordedSpan] {
        let base = source.hasSuffix("/") ? String(source.dropLast()) : source
        let request = HTTPClientRequest(url: "\(base)/debug/traces/\(pathSegment(id))")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        switch response.status.code {
        case 200: return try JSONDecoder().decode([RecordedSpan].self, from: Data(body.readableBytesView))
        case 404 where String(buffer: body).contains("NOT_FOUND"): return []
        default: throw TraceSourceError(status: Int(response.status.code), body: String(buffer: body))
        }
    }
}

struct TraceSourceError: Error, CustomStringConvertible {
    var status: Int
    var body: String
    var description: String { "HTTP \(status): \(body)" }
}
