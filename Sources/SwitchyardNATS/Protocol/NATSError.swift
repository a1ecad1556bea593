/// What the client reports to its callers.
package enum NATSError: Error, Hashable, CustomStringConvertible {
    /// A subject the client would send is not valid (empty, empty token, whitespace).
    case invalidSubject(String)
    case invalidHeader(String)
    case invalidServerURL(String)
    /// A message larger than the server's `max_payload`.
    case payloadTooLarge(size: Int, limit: Int)
    /// The outbound buffer (publishes waiting for the socket or for a reconnect) is full.
    case outboundBufferFull(limit: Int)
    /// A request found nobody subscribed to its subject (status 503).
    case noResponders(subject: String)
    case timeout
    /// The client was closed (or gave up reconnecting).
    case connectionClosed
    /// The connection was lost before the operation completed.
    case disconnected
    /// No server of the list could be connected to.
    case connectFailed(String)
    /// `-ERR` from the server.
    case serverError(String)
    /// Ack operations on a message that has no JetStream ack subject.
    case notAJetStreamMessage

    package var description: String {
        switch self {
        case .invalidSubject(let subject): "invalid NATS subject \(subject.debugDescription)"
        case .invalidHeader(let reason): "invalid NATS header: \(reason)"
        case .invalidServerURL(let url): "invalid NATS server URL \(url.debugDescription)"
        case .payloadTooLarge(let size, let limit): "message of \(size) bytes exceeds the server's max_payload of \(limit)"
        case .outboundBufferFull(let limit): "NATS outbound buffer full (\(limit) bytes pending; disconnected or the server is slow)"
        case .noResponders(let subject): "no responders for \(subject)"
        case .timeout: "NATS request timed out"
        case .connectionClosed: "NATS connection closed"
        case .disconnected: "NATS connection lost"
        case .connectFailed(let reason): "could not connect to NATS: \(reason)"
        case .serverError(let text): "NATS server error: \(text)"
        case .notAJetStreamMessage: "message has no JetStream ack subject"
        }
    }
}
