package import NIOCore

/// A message received on a subscription (or sent as a reply).
package struct NATSMessage: Sendable, Hashable {
    package var subject: String
    /// Where a reply goes: a request's inbox, or JetStream's `$JS.ACK…` subject.
    package var reply: String?
    package var headers: NATSHeaders?
    package var payload: ByteBuffer

    package init(subject: String, reply: String? = nil, headers: NATSHeaders? = nil, payload: ByteBuffer) {
        self.subject = subject
        self.reply = reply
        self.headers = headers
        self.payload = payload
    }

    /// The status code of the header block (`503` no responders, `408`, `404`, `409`, `100`).
    package var status: Int? { headers?.status }
    package var statusDescription: String? { headers?.statusDescription }

    package var payloadBytes: [UInt8] { Array(payload.readableBytesView) }
}
