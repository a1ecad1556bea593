package import NIOCore

/// Publishing into a stream and waiting for its ack.
extension JetStream {
    /// Publishes and waits for the stream's ack. With a `messageID` (sent as `Nats-Msg-Id`, so
    /// the stream drops repeats within its duplicate window) a timed-out attempt is retried;
    /// "no responders" (the stream is not there yet, e.g. during a leader election) is always
    /// retried, as nothing was stored. Retries back off briefly and stop at `timeout` overall.
    package func publish(
        subject: String, payload: ByteBuffer, headers: NATSHeaders? = nil, messageID: String? = nil, timeout: Duration = .seconds(10)
    ) async throws -> PubAck {
        var headers = headers
        if let messageID { headers = Self.addingMessageID(messageID, to: headers) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var attempt = 0
        while true {
            let remaining = clock.now.duration(to: deadline)
            let attemptTimeout = messageID == nil ? remaining : min(remaining, max(self.timeout, .milliseconds(500)))
            do {
                let reply = try await client.request(subject: subject, payload: payload, headers: headers, timeout: attemptTimeout)
                return try PubAck.parse(reply.payload)
            } catch let error as NATSError {
                switch error {
                case .noResponders: break  // nothing was stored: safe to retry even without a message id
                case .timeout where messageID != nil: break
                default: throw error
                }
                attempt += 1
                let pause = Self.retryPause(attempt: attempt)
                guard clock.now.advanced(by: pause) < deadline else {
                    throw error == .timeout ? JetStreamError.publishTimedOut : error
                }
                try await Task.sleep(for: pause)
            }
        }
    }

    package func publish(
        subject: String, payload: [UInt8], headers: NATSHeaders? = nil, messageID: String? = nil, timeout: Duration = .seconds(10)
    ) async throws -> PubAck {
        try await publish(subject: subject, payload: ByteBuffer(bytes: payload), headers: headers, messageID: messageID, timeout: timeout)
    }

    static func addingMessageID(_ messageID: String, to headers: NATSHeaders?) -> NATSHeaders {
        var headers = headers ?? NATSHeaders()
        headers["Nats-Msg-Id"] = messageID
        return headers
    }

    /// 25 ms doubling to 400 ms.
    static func retryPause(attempt: Int) -> Duration {
        .milliseconds(25 << min(max(attempt - 1, 0), 4))
    }
}
