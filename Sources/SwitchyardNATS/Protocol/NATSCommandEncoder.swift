package import NIOCore

/// Writes client operations: CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG.
package enum NATSCommandEncoder {
    /// The fields of CONNECT this client sends.
    package struct ConnectOptions: Sendable, Encodable {
        var verbose = false
        var pedantic = false
        var tlsRequired = false
        var name: String?
        var lang = "swift"
        var version = "0.1.0"
        var `protocol` = 1
        var headers = true
        var noResponders = true
        var echo = true

        package init(name: String?) { self.name = name }

        enum CodingKeys: String, CodingKey {
            case verbose, pedantic, name, lang, version, `protocol`, headers, echo
            case tlsRequired = "tls_required"
            case noResponders = "no_responders"
        }
    }

    package static func writeConnect(_ json: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("CONNECT ")
        buffer.writeString(json)
        buffer.writeCRLF()
    }

    /// PUB, or HPUB when `headers` is not `nil`. Validates everything first, so a failure
    /// leaves `buffer` as it was.
    package static func writePublish(
        subject: String, reply: String?, headers: NATSHeaders?, payload: ByteBuffer, into buffer: inout ByteBuffer
    ) throws(NATSError) {
        try NATSSubjectValidation.validate(subject)
        if let reply { try NATSSubjectValidation.validate(reply) }
        try writeValidatedPublish(subject: subject, reply: reply.map { ReplySubject.full($0) }, headers: headers, payload: payload, into: &buffer)
    }

    /// How a reply subject is written: whole, or as an inbox prefix and a numeric token (so
    /// request hot paths do not build a string per message).
    enum ReplySubject {
        case full(String)
        case inbox(prefix: String, token: Int)
    }

    /// `subject` and the reply must be valid already.
    static func writeValidatedPublish(
        subject: String, reply: ReplySubject?, headers: NATSHeaders?, payload: ByteBuffer, into buffer: inout ByteBuffer
    ) throws(NATSError) {
        if let headers {
            try headers.validateForSending()
            let headerLength = headers.encodedLength
            buffer.writeStaticString("HPUB ")
            writeSubjectAndReply(subject, reply, into: &buffer)
            buffer.writeDecimal(headerLength)
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeDecimal(headerLength + payload.readableBytes)
            buffer.writeCRLF()
            headers.write(into: &buffer)
        } else {
            buffer.writeStaticString("PUB ")
            writeSubjectAndReply(subject, reply, into: &buffer)
            buffer.writeDecimal(payload.readableBytes)
            buffer.writeCRLF()
        }
        buffer.writeImmutableBuffer(payload)
        buffer.writeCRLF()
    }

    @inline(__always)
    private static func writeSubjectAndReply(_ subject: String, _ reply: ReplySubject?, into buffer: inout ByteBuffer) {
        buffer.writeString(subject)
        buffer.writeInteger(UInt8(ascii: " "))
        switch reply {
        case .full(let reply):
            buffer.writeString(reply)
            buffer.writeInteger(UInt8(ascii: " "))
        case .inbox(let prefix, let token):
            buffer.writeString(prefix)
            buffer.writeDecimal(token)
            buffer.writeInteger(UInt8(ascii: " "))
        case nil:
            break
        }
    }

    /// Bytes a message adds to the wire beyond its payload and headers, at most (for limits).
    static func publishOverhead(subject: String, reply: Int) -> Int {
        subject.utf8.count + reply + 48
    }

    package static func writeSubscribe(subject: String, queue: String?, sid: Int, into buffer: inout ByteBuffer) throws(NATSError) {
        try NATSSubjectValidation.validate(subject)
        if let queue { try NATSSubjectValidation.validateQueue(queue) }
        buffer.writeStaticString("SUB ")
        buffer.writeString(subject)
        buffer.writeInteger(UInt8(ascii: " "))
        if let queue {
            buffer.writeString(queue)
            buffer.writeInteger(UInt8(ascii: " "))
        }
        buffer.writeDecimal(sid)
        buffer.writeCRLF()
    }

    package static func writeUnsubscribe(sid: Int, max: Int? = nil, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("UNSUB ")
        buffer.writeDecimal(sid)
        if let max {
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeDecimal(max)
        }
        buffer.writeCRLF()
    }

    package static func writePing(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("PING\r\n")
    }

    package static func writePong(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("PONG\r\n")
    }
}
