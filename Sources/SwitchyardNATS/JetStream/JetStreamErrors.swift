/// An error the JetStream API answered with (`{"error":{"code":…,"err_code":…,"description":…}}`).
package struct JetStreamAPIError: Error, Hashable, Codable, CustomStringConvertible {
    /// The HTTP-like status (400, 404, 500, 503).
    package var code: Int
    /// JetStream's own error code: 10059 stream not found, 10014 consumer not found,
    /// 10058 stream name in use with another configuration, 10037 no message found…
    package var errorCode: Int
    package var errorDescription: String

    package init(code: Int, errorCode: Int, description: String) {
        self.code = code
        self.errorCode = errorCode
        self.errorDescription = description
    }

    enum CodingKeys: String, CodingKey {
        case code
        case errorCode = "err_code"
        case errorDescription = "description"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decodeIfPresent(Int.self, forKey: .code) ?? 0
        errorCode = try container.decodeIfPresent(Int.self, forKey: .errorCode) ?? 0
        errorDescription = try container.decodeIfPresent(String.self, forKey: .errorDescription) ?? ""
    }

    package var description: String { "JetStream API error \(code) (\(errorCode)): \(errorDescription)" }

    static let streamNotFound = 10059
    static let consumerNotFound = 10014
    static let streamNameInUse = 10058
    static let noMessageFound = 10037
}

/// JetStream failures that are not API answers.
package enum JetStreamError: Error, Hashable, CustomStringConvertible {
    /// An API answer that could not be decoded.
    case malformedResponse(String)
    /// A pull request the server refused or ended (409: "Exceeded MaxWaiting", "Consumer
    /// Deleted", "Consumer is push based"…).
    case pullFailed(status: Int, description: String)
    /// The consumer was deleted while pulling from it.
    case consumerDeleted
    /// A pull's idle heartbeats stopped arriving: the pull is dead; pull again.
    case missedHeartbeats
    /// No ack for a publish within its deadline, retries included.
    case publishTimedOut

    package var description: String {
        switch self {
        case .malformedResponse(let reason): "malformed JetStream response: \(reason)"
        case .pullFailed(let status, let description): "JetStream pull failed: \(status) \(description)"
        case .consumerDeleted: "JetStream consumer deleted"
        case .missedHeartbeats: "JetStream pull missed its idle heartbeats"
        case .publishTimedOut: "JetStream publish not acknowledged in time"
        }
    }
}
