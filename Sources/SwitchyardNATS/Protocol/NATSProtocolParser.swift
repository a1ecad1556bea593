package import NIOCore

/// An incremental parser for what a NATS server sends: feed it reads as they arrive (split at
/// any byte), take operations out with `next()`. Payloads are slices of the read buffers, so a
/// message costs no copy unless it straddles two reads.
package struct NATSProtocolParser: Sendable {
    /// The largest message (headers + payload) accepted; the server's `max_payload` once known.
    package var maxPayload: Int
    package let maxControlLineLength: Int

    private var buffer = ByteBuffer()
    /// How far the search for the current control line's newline got, so a long line arriving
    /// in pieces is not scanned from its start each time.
    private var scannedBytes = 0
    private var pendingMessage: PendingMessage?

    private struct PendingMessage: Sendable {
        var sid: Int
        var subject: String
        var reply: String?
        var headerLength: Int
        var totalLength: Int
    }

    package init(maxPayload: Int = 1024 * 1024, maxControlLineLength: Int = 64 * 1024) {
        self.maxPayload = maxPayload
        self.maxControlLineLength = maxControlLineLength
    }

    /// Adds bytes read from the connection.
    package mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            // Moves the unread rest to a fresh start (a copy when messages still share it).
            buffer.discardReadBytes()
            buffer.writeImmutableBuffer(bytes)
        }
    }

    /// The next complete operation, or `nil` when more bytes are needed.
    package mutating func next() throws(NATSProtocolError) -> NATSServerOperation? {
        if let pending = pendingMessage {
            return try finishMessage(pending)
        }
        guard let lineLength = try findLineLength() else { return nil }
        let lineStart = buffer.readerIndex
        var contentLength = lineLength
        if contentLength > 0, buffer.getInteger(at: lineStart + contentLength - 1, as: UInt8.self) == 13 { contentLength -= 1 }
        buffer.moveReaderIndex(forwardBy: lineLength + 1)
        scannedBytes = 0
        let parsed: Result<ControlLine, NATSProtocolError> = buffer.withVeryUnsafeBytes { storage in
            let line = UnsafeRawBufferPointer(rebasing: storage[lineStart..<(lineStart + contentLength)])
            do throws(NATSProtocolError) {
                return .success(try parseControlLine(line))
            } catch {
                return .failure(error)
            }
        }
        switch try parsed.get() {
        case .operation(let operation):
            return operation
        case .message(let pending):
            // Its payload may already be here.
            return try finishMessage(pending)
        }
    }

    private mutating func findLineLength() throws(NATSProtocolError) -> Int? {
        let readable = buffer.readableBytes
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = scannedBytes
            while index < bytes.count {
                if bytes[index] == 10 { return index }
                index += 1
            }
            return nil
        }
        if let found {
            guard found <= maxControlLineLength else { throw .controlLineTooLong(limit: maxControlLineLength) }
            return found
        }
        guard readable <= maxControlLineLength else { throw .controlLineTooLong(limit: maxControlLineLength) }
        scannedBytes = readable
        return nil
    }

    private enum ControlLine {
        case operation(NATSServerOperation)
        /// A MSG/HMSG line, whose payload follows.
        case message(PendingMessage)
    }

    /// Parses one control line (without its line end).
    private func parseControlLine(_ line: UnsafeRawBufferPointer) throws(NATSProtocolError) -> ControlLine {
        let verbEnd = line.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } ?? line.count
        let verb = line[0..<verbEnd]
        let arguments = line[verbEnd...]
        switch verb.count {
        case 3 where matches(verb, "MSG"):
            return .message(try parseMessageArguments(arguments, withHeaders: false))
        case 4 where matches(verb, "HMSG"):
            return .message(try parseMessageArguments(arguments, withHeaders: true))
        case 4 where matches(verb, "PING"):
            return .operation(.ping)
        case 4 where matches(verb, "PONG"):
            return .operation(.pong)
        case 3 where matches(verb, "+OK"):
            return .operation(.ok)
        case 4 where matches(verb, "-ERR"):
            var text = arguments.trimmingSpaces()
            if text.count >= 2, text.first == UInt8(ascii: "'"), text.last == UInt8(ascii: "'") {
                text = text.dropFirst().dropLast()
            }
            return .operation(.error(String(decoding: text, as: UTF8.self)))
        case 4 where matches(verb, "INFO"):
            return .operation(.info(String(decoding: arguments.trimmingSpaces(), as: UTF8.self)))
        default:
            throw .unknownOperation(String(decoding: verb.prefix(16), as: UTF8.self))
        }
    }

    private func parseMessageArguments(_ arguments: Slice<UnsafeRawBufferPointer>, withHeaders: Bool) throws(NATSProtocolError) -> PendingMessage {
        let operation = withHeaders ? "HMSG" : "MSG"
        var fields = MessageArguments()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            while index < arguments.endIndex, isSpace(arguments[index]) { index += 1 }
            let start = index
            while index < arguments.endIndex, !isSpace(arguments[index]) { index += 1 }
            if index > start {
                guard fields.count < 5 else { throw .malformedArguments(operation: operation, reason: "too many arguments") }
                fields.append(start..<index)
            }
        }
        let base = arguments.base
        let sizeCount = withHeaders ? 2 : 1
        guard fields.count == 2 + sizeCount || fields.count == 3 + sizeCount else {
            throw .malformedArguments(operation: operation, reason: "\(fields.count) arguments")
        }
        guard let sid = parseDecimal(base[fields[1]]) else { throw .malformedArguments(operation: operation, reason: "bad sid") }
        let hasReply = fields.count == 3 + sizeCount
        guard let totalLength = parseDecimal(base[fields[fields.count - 1]]) else {
            throw .malformedArguments(operation: operation, reason: "bad size")
        }
        var headerLength = 0
        if withHeaders {
            guard let parsed = parseDecimal(base[fields[fields.count - 2]]) else {
                throw .malformedArguments(operation: operation, reason: "bad header size")
            }
            guard parsed <= totalLength else {
                throw .malformedArguments(operation: operation, reason: "header size \(parsed) exceeds total size \(totalLength)")
            }
            headerLength = parsed
        }
        guard totalLength <= maxPayload else { throw .payloadTooLarge(size: totalLength, limit: maxPayload) }
        return PendingMessage(
            sid: sid,
            subject: String(decoding: base[fields[0]], as: UTF8.self),
            reply: hasReply ? String(decoding: base[fields[2]], as: UTF8.self) : nil,
            headerLength: headerLength,
            totalLength: totalLength
        )
    }

    private mutating func finishMessage(_ pending: PendingMessage) throws(NATSProtocolError) -> NATSServerOperation? {
        guard buffer.readableBytes >= pending.totalLength + 2 else {
            pendingMessage = pending
            return nil
        }
        pendingMessage = nil
        var headers: NATSHeaders?
        if pending.headerLength > 0, let block = buffer.readSlice(length: pending.headerLength) {
            headers = try NATSHeaders.parse(block)
        }
        let payload = buffer.readSlice(length: pending.totalLength - pending.headerLength) ?? ByteBuffer()
        guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .missingPayloadTerminator }
        return .message(
            sid: pending.sid,
            NATSMessage(subject: pending.subject, reply: pending.reply, headers: headers, payload: payload)
        )
    }
}

/// The (at most five) arguments of a MSG/HMSG line as ranges of the line, kept inline: an
/// array would cost an allocation per message.
private struct MessageArguments {
    private var ranges: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0, 0..<0, 0..<0)
    private(set) var count = 0

    /// Callers keep `count` below 5.
    mutating func append(_ range: Range<Int>) {
        switch count {
        case 0: ranges.0 = range
        case 1: ranges.1 = range
        case 2: ranges.2 = range
        case 3: ranges.3 = range
        default: ranges.4 = range
        }
        count += 1
    }

    subscript(index: Int) -> Range<Int> {
        switch index {
        case 0: ranges.0
        case 1: ranges.1
        case 2: ranges.2
        case 3: ranges.3
        default: ranges.4
        }
    }
}

@inline(__always)
private func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
}

/// Compares a verb ignoring ASCII case, as servers accept either.
@inline(__always)
private func matches(_ bytes: Slice<UnsafeRawBufferPointer>, _ verb: StaticString) -> Bool {
    guard bytes.count == verb.utf8CodeUnitCount else { return false }
    let expected = UnsafeBufferPointer(start: verb.utf8Start, count: verb.utf8CodeUnitCount)
    for (byte, wanted) in zip(bytes, expected) where asciiUppercased(byte) != wanted { return false }
    return true
}

@inline(__always)
private func asciiUppercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
}
