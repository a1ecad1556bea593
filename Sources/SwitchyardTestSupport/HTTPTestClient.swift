import AsyncHTTPClient
import Foundation
package import NIOCore
package import NIOHTTP1

/// One HTTP exchange as a test sees it.
package struct HTTPTestResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: String

    /// The body parsed as a JSON object (nil when it is not one).
    package var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }

    /// `error.code` of a JSON error body.
    package var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    package var errorMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }
}

/// Sends real HTTP requests to a server on loopback.
package struct HTTPTestClient: Sendable {
    package let baseURL: String

    /// One client for every test, allowed many connections per host: AsyncHTTPClient's
    /// default of 8 would queue a test's concurrent requests inside the client, hiding what the
    /// server does with them. Never shut down: it lives as long as the test process.
    private static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256))
    )

    package init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// - Parameters:
    ///   - path: Appended to the base URL as written (so tests can send odd encodings).
    ///   - json: A body, sent with `Content-Type: application/json` unless `headers` say otherwise.
    package func send(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> HTTPTestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await Self.client.execute(request, timeout: timeout)
        let collected = try await response.body.collect(upTo: 16 << 20)
        return HTTPTestResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: collected))
    }

    package func get(_ path: String, headers: [(String, String)] = []) async throws -> HTTPTestResponse {
        try await send(.GET, path, headers: headers)
    }

    /// POST /orders with an idempotency key and a JSON body.
    package func placeOrder(key: String?, json: String) async throws -> HTTPTestResponse {
        try await send(.POST, "/orders", headers: key.map { [("Idempotency-Key", $0)] } ?? [], body: Array(json.utf8))
    }
}
