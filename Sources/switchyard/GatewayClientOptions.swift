import AsyncHTTPClient
import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1

/// Options of the client subcommands, which talk to the gateway over HTTP like any client.
struct GatewayClientOptions: ParsableArguments {
    @Option(help: "The gateway's base URL (also SWITCHYARD_GATEWAY_URL).")
    var gateway: String = ProcessInfo.processInfo.environment["SWITCHYARD_GATEWAY_URL"] ?? "http://127.0.0.1:8080"

    /// Sends one request and prints the JSON answer; a non-2xx answer prints its error and
    /// fails the command.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: String? = nil) async throws {
        var request = HTTPClientRequest(url: gateway.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        } catch {
            throw ValidationError("cannot reach the gateway at \(gateway): \(error)")
        }
        let body = String(buffer: try await response.body.collect(upTo: 4 << 20))
        guard (200..<300).contains(response.status.code) else {
            FileHandle.standardError.write(Data("HTTP \(response.status.code): \(body)\n".utf8))
            throw ExitCode(1)
        }
        print(body)
    }
}

/// A path segment, percent-encoded.
func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
}
