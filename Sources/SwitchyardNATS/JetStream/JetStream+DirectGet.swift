import Foundation
package import NIOCore

/// Reading and deleting single stored messages (`STREAM.MSG.GET` / `STREAM.MSG.DELETE`).
extension JetStream {
    /// The message at `sequence`, `nil` when there is none (deleted or never stored).
    package func getMessage(stream: String, sequence: UInt64) async throws -> StoredMessage? {
        try await getMessage(stream: stream, request: GetRequest(seq: sequence, nextBySubject: nil))
    }

    /// The first message on `subject` (wildcards allowed) at or after `startSequence`, `nil` when
    /// there is none.
    package func getMessage(stream: String, nextBySubject subject: String, startSequence: UInt64 = 1) async throws -> StoredMessage? {
        try await getMessage(stream: stream, request: GetRequest(seq: startSequence, nextBySubject: subject))
    }

    /// Removes the message at `sequence`; throws `JetStreamAPIError` when there is none.
    package func deleteMessage(stream: String, sequence: UInt64) async throws {
        struct Request: Encodable {
            var seq: UInt64
            var noErase = true
            enum CodingKeys: String, CodingKey {
                case seq
                case noErase = "no_erase"
            }
        }
        let _: SuccessResponse = try await call("STREAM.MSG.DELETE.\(try apiToken(stream))", body: Request(seq: sequence))
    }

    private struct GetRequest: Encodable {
        var seq: UInt64
        var nextBySubject: String?
        enum CodingKeys: String, CodingKey {
            case seq
            case nextBySubject = "next_by_subj"
        }
    }

    private func getMessage(stream: String, request: GetRequest) async throws -> StoredMessage? {
        struct Response: Decodable {
            var message: Raw
        }
        struct Raw: Decodable {
            var subject: String
            var seq: UInt64
            var hdrs: String?
            var data: String?
            var time: String?
        }
        let response: Response
        do {
            response = try await call("STREAM.MSG.GET.\(try apiToken(stream))", body: request)
        } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.noMessageFound {
            return nil
        }
        let raw = response.message
        var headers: NATSHeaders?
        if let encoded = raw.hdrs, !encoded.isEmpty {
            guard let block = Data(base64Encoded: encoded) else { throw JetStreamError.malformedResponse("headers are not base64") }
            do {
                headers = try NATSHeaders.parse(ByteBuffer(bytes: block))
            } catch {
                throw JetStreamError.malformedResponse("\(error)")
            }
        }
        var payload = ByteBuffer()
        if let encoded = raw.data, !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded) else { throw JetStreamError.malformedResponse("data is not base64") }
            payload = ByteBuffer(bytes: data)
        }
        return StoredMessage(subject: raw.subject, sequence: raw.seq, headers: headers, payload: payload, time: raw.time)
    }
}

/// A message as the stream stores it.
package struct StoredMessage: Sendable, Hashable {
    package var subject: String
    package var sequence: UInt64
    package var headers: NATSHeaders?
    package var payload: ByteBuffer
    /// RFC 3339, as the server gives it.
    package var time: String?
}
