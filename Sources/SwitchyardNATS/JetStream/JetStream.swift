import Foundation
import NIOCore

/// The JetStream API over a `NATSClient`: streams, consumers, acknowledged publishing and pull
/// consumers. A cheap value; make as many as convenient.
package struct JetStream: Sendable {
    package let client: NATSClient
    /// `$JS.API`, or `$JS.<domain>.API` for a JetStream domain.
    package let apiPrefix: String
    /// How long an API call waits for its answer.
    package var timeout: Duration

    package init(client: NATSClient, domain: String? = nil, timeout: Duration = .seconds(5)) {
        self.client = client
        self.apiPrefix = domain.map { "$JS.\($0).API" } ?? "$JS.API"
        self.timeout = timeout
    }

    /// Calls `$JS.API.<subject>` with `body` as JSON and decodes the answer, throwing the API's
    /// error when it sent one.
    func call<Response: Decodable>(_ subject: String, body: some Encodable, as: Response.Type = Response.self) async throws -> Response {
        let payload = try JSONEncoder().encode(body)
        return try await call(subject, payload: ByteBuffer(bytes: payload))
    }

    func call<Response: Decodable>(_ subject: String, payload: ByteBuffer = ByteBuffer(), as: Response.Type = Response.self) async throws -> Response {
        let reply = try await client.request(subject: "\(apiPrefix).\(subject)", payload: payload, timeout: timeout)
        return try Self.decodeResponse(reply.payload)
    }

    static func decodeResponse<Response: Decodable>(_ payload: ByteBuffer, as: Response.Type = Response.self) throws -> Response {
        let data = Data(payload.readableBytesView)
        let decoder = JSONDecoder()
        let envelope: ErrorEnvelope
        do {
            envelope = try decoder.decode(ErrorEnvelope.self, from: data)
        } catch {
            throw JetStreamError.malformedResponse("\(error)")
        }
        if let error = envelope.error { throw error }
        do {
            return try decoder.decode(Response.self, from: data)
        } catch {
            throw JetStreamError.malformedResponse("\(error)")
        }
    }

    private struct ErrorEnvelope: Decodable {
        var error: JetStreamAPIError?
    }
}

/// `{"success":true}` answers.
struct SuccessResponse: Decodable {
    var success: Bool?
}

/// An empty JSON object body.
struct EmptyRequest: Encodable {}
