package import NIOCore

/// A message delivered by a JetStream consumer, with its acknowledgements.
package struct JetStreamMessage: Sendable {
    package let message: NATSMessage
    let client: NATSClient

    /// The reply subject arrived from the server (as one token of a MSG line), so it is valid
    /// and need not be checked again for every ack.
    private let replyFromServer: Bool

    package init(message: NATSMessage, client: NATSClient) {
        self.init(message: message, client: client, replyFromServer: false)
    }

    init(message: NATSMessage, client: NATSClient, replyFromServer: Bool) {
        self.message = message
        self.client = client
        self.replyFromServer = replyFromServer
    }

    package var subject: String { message.subject }
    package var payload: ByteBuffer { message.payload }
    package var headers: NATSHeaders? { message.headers }
    /// Stream, consumer, delivery count and sequences, from the ack subject; `nil` when the
    /// message has no valid one.
    package var metadata: JetStreamMessageMetadata? { message.reply.flatMap(JetStreamMessageMetadata.init(ackSubject:)) }

    /// `+ACK`: processed.
    package func ack() throws { try send(Self.ackPayload) }

    /// `+ACK` as a request: returns once the server confirmed it (so a redelivery after this is
    /// not possible).
    package func ackSync(timeout: Duration = .seconds(5)) async throws {
        let subject = try ackSubject()
        _ = try await client.request(subject: subject, payload: Self.ackPayload, timeout: timeout)
    }

    /// `-NAK`: redeliver, after `delay` when given.
    package func nak(delay: Duration? = nil) throws {
        guard let delay else { return try send(Self.nakPayload) }
        try send(ByteBuffer(string: "-NAK {\"delay\":\(max(0, delay.nanoseconds))}"))
    }

    /// `+WPI`: still working on it; restarts the ack wait.
    package func inProgress() throws { try send(Self.inProgressPayload) }

    /// `+TERM`: never redeliver.
    package func term(reason: String? = nil) throws {
        guard let reason, !reason.isEmpty else { return try send(Self.termPayload) }
        try send(ByteBuffer(string: "+TERM \(reason)"))
    }

    /// Publishes `payload` to the ack subject (once per consumed message: a subject that came
    /// from the server is not validated again).
    private func send(_ payload: ByteBuffer) throws {
        let subject = try ackSubject()
        if !replyFromServer { try NATSSubjectValidation.validate(subject) }
        try client.enqueuePublish(subject: subject, reply: nil, headers: nil, payload: payload)
    }

    private func ackSubject() throws(NATSError) -> String {
        guard let reply = message.reply, utf8HasPrefix(reply, "$JS.ACK.") else { throw NATSError.notAJetStreamMessage }
        return reply
    }

    static let ackPayload = ByteBuffer(string: "+ACK")
    static let nakPayload = ByteBuffer(string: "-NAK")
    static let inProgressPayload = ByteBuffer(string: "+WPI")
    static let termPayload = ByteBuffer(string: "+TERM")
}

/// What a JetStream ack subject says about its message: `$JS.ACK.<stream>.<consumer>.<delivered>.
/// <streamSeq>.<consumerSeq>.<timestampNs>.<pending>`, or the v2 form with a domain and account
/// hash in front and a random token after.
package struct JetStreamMessageMetadata: Hashable, Sendable {
    package var domain: String?
    package var stream: String
    package var consumer: String
    /// 1 on first delivery, then counting redeliveries.
    package var delivered: Int
    package var streamSequence: UInt64
    package var consumerSequence: UInt64
    /// When the message was stored, in nanoseconds since 1970.
    package var timestampNanoseconds: Int64
    /// Messages still pending for the consumer after this one.
    package var pending: UInt64

    package init?(ackSubject: String) {
        let tokens = ackSubject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else { return nil }
        let offset: Int
        switch tokens.count {
        case 9:
            offset = 2
            domain = nil
        case 12...:
            offset = 4
            domain = tokens[2] == "_" ? nil : String(tokens[2])
        default:
            return nil
        }
        guard let delivered = parseDecimal(tokens[offset + 2].utf8),
            let streamSequence = parseDecimal(tokens[offset + 3].utf8),
            let consumerSequence = parseDecimal(tokens[offset + 4].utf8),
            let timestamp = parseDecimal(tokens[offset + 5].utf8),
            let pending = parseDecimal(tokens[offset + 6].utf8),
            !tokens[offset].isEmpty, !tokens[offset + 1].isEmpty
        else { return nil }
        self.stream = String(tokens[offset])
        self.consumer = String(tokens[offset + 1])
        self.delivered = delivered
        self.streamSequence = UInt64(streamSequence)
        self.consumerSequence = UInt64(consumerSequence)
        self.timestampNanoseconds = Int64(timestamp)
        self.pending = UInt64(pending)
    }
}
