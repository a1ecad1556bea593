import GRPCCore
package import NIOCore

/// The message bytes `SwitchyardHTTP2ServerTransport` hands to and takes from grpc-swift.
///
/// A `ByteBuffer` whose readable bytes are exactly one message. Buffers made through the
/// `GRPCContiguousBytes` initialisers (which is how serializers produce responses) keep five
/// bytes of headroom in front of the message holding its gRPC length prefix, so the transport
/// can put the message on the wire as one DATA payload without allocating or copying.
/// Request messages are slices of the received DATA frames where a message fits in one frame.
package struct SwitchyardGRPCBytes: GRPCContiguousBytes, Sendable, Hashable {
    /// The message; its readable bytes and nothing else.
    package var buffer: ByteBuffer

    /// Wraps `buffer`'s readable bytes.
    package init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    package init(repeating byte: UInt8, count: Int) {
        var buffer = ByteBufferAllocator().buffer(capacity: count + GRPCFraming.prefixLength)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(truncatingIfNeeded: count))
        buffer.writeRepeatingByte(byte, count: count)
        buffer.moveReaderIndex(forwardBy: GRPCFraming.prefixLength)
        self.buffer = buffer
    }

    package init<Bytes: Sequence>(_ sequence: Bytes) where Bytes.Element == UInt8 {
        var buffer = ByteBufferAllocator().buffer(capacity: sequence.underestimatedCount + GRPCFraming.prefixLength)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(0))
        let written = buffer.writeBytes(sequence)
        buffer.setInteger(UInt32(truncatingIfNeeded: written), at: buffer.readerIndex + 1)
        buffer.moveReaderIndex(forwardBy: GRPCFraming.prefixLength)
        self.buffer = buffer
    }

    package var count: Int { buffer.readableBytes }

    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    package mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }

    // Equality is about the message, not where it sits in its storage.
    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.buffer == rhs.buffer }
    package func hash(into hasher: inout Hasher) { hasher.combine(buffer) }
}

/// The gRPC length-prefixed message format.
enum GRPCFraming {
    /// One byte compressed flag, four bytes big-endian length.
    static let prefixLength = 5

    /// `message` as a DATA payload: prefix and message.
    ///
    /// When the five bytes in front of the message in its storage already hold the right prefix
    /// (see `SwitchyardGRPCBytes`), only the reader index moves. Otherwise, e.g. for an echoed
    /// request slice or a buffer that was copied on write, the message is copied behind a new
    /// prefix.
    static func framed(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = message.readableBytes
        let start = message.readerIndex
        if start >= prefixLength,
            message.getInteger(at: start - prefixLength, as: UInt8.self) == 0,
            message.getInteger(at: start - prefixLength + 1, as: UInt32.self) == UInt32(truncatingIfNeeded: length),
            UInt64(length) <= UInt64(UInt32.max)
        {
            var framed = message
            framed.moveReaderIndex(to: start - prefixLength)
            return framed
        }
        var framed = allocator.buffer(capacity: prefixLength + length)
        framed.writeInteger(UInt8(0))
        framed.writeInteger(UInt32(truncatingIfNeeded: length))
        framed.writeImmutableBuffer(message)
        return framed
    }
}
