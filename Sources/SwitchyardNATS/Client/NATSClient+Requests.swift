package import NIOCore
import Synchronization

/// Request/reply over one wildcard inbox subscription (`_INBOX.<random>.*`): each request
/// gets a numeric token, and the reply's subject says whose it is.
extension NATSClient {
    /// Sends a request and waits for the first reply.
    /// - Throws: `NATSError.noResponders` when nobody subscribes to `subject` (status 503),
    ///   `NATSError.timeout`, `CancellationError` when the task is cancelled.
    package func request(
        subject: String, payload: ByteBuffer, headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)
    ) async throws -> NATSMessage {
        try NATSSubjectValidation.validate(subject)
        let promise = eventLoop.makePromise(of: NATSMessage.self)
        let token = try registerReplyHandler(
            ReplyHandler(persistent: false, deliver: { promise.succeed($0) }, fail: { promise.fail($0) })
        )
        defer { removeReplyHandler(token: token) }
        try enqueuePublish(subject: subject, reply: .inbox(prefix: inboxPrefix, token: token), headers: headers, payload: payload)
        let timer = eventLoop.scheduleTask(in: timeout.timeAmount) { promise.fail(NATSError.timeout) }
        defer { timer.cancel() }
        let reply = try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
        if reply.status == 503 { throw NATSError.noResponders(subject: subject) }
        return reply
    }

    package func request(subject: String, payload: [UInt8], headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)) async throws -> NATSMessage {
        try await request(subject: subject, payload: ByteBuffer(bytes: payload), headers: headers, timeout: timeout)
    }

    /// Registers `handler` for replies to a fresh token; the reply subject is
    /// `inboxPrefix + token`.
    func registerReplyHandler(_ handler: ReplyHandler) throws(NATSError) -> Int {
        try registry.withLock { registry throws(NATSError) -> Int in
            guard !registry.closed else { throw NATSError.connectionClosed }
            let token = registry.nextReplyToken
            registry.nextReplyToken += 1
            registry.replyHandlers[token] = handler
            return token
        }
    }

    func removeReplyHandler(token: Int) {
        _ = registry.withLock { $0.replyHandlers.removeValue(forKey: token) }
    }

    /// The reply subject for `token`.
    func replySubject(token: Int) -> String { inboxPrefix + String(token) }

    /// A message on the shared inbox: to the handler its token names (late replies for
    /// finished requests are dropped).
    func routeReply(_ message: NATSMessage) {
        guard let token = replyToken(of: message.subject) else { return }
        let handler = registry.withLock { registry -> ReplyHandler? in
            guard let handler = registry.replyHandlers[token] else { return nil }
            if !handler.persistent { registry.replyHandlers[token] = nil }
            return handler
        }
        handler?.deliver(message)
    }

    private func replyToken(of subject: String) -> Int? {
        let utf8 = subject.utf8
        let prefixLength = inboxPrefix.utf8.count
        guard utf8.count > prefixLength, utf8.starts(with: inboxPrefix.utf8) else { return nil }
        return parseDecimal(utf8.dropFirst(prefixLength))
    }
}
