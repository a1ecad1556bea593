/// Messages on one subject (or wildcard), as an async sequence. It ends after `unsubscribe()`
/// or when the client closes; a reader that stops iterating unsubscribes it.
package struct NATSSubscription: AsyncSequence, Sendable {
    package typealias Element = NATSMessage

    private let client: NATSClient
    package let sid: Int
    package let subject: String
    private let stream: AsyncStream<NATSMessage>

    init(client: NATSClient, sid: Int, subject: String, stream: AsyncStream<NATSMessage>) {
        self.client = client
        self.sid = sid
        self.subject = subject
        self.stream = stream
    }

    package func unsubscribe() {
        client.removeSubscription(sid: sid)
    }

    package func makeAsyncIterator() -> AsyncStream<NATSMessage>.Iterator {
        stream.makeAsyncIterator()
    }
}
