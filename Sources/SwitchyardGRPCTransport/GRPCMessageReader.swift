import NIOCore

/// Splits the bytes of a request stream's DATA frames into gRPC messages, however the frames
/// cut them.
///
/// A message that lies entirely inside one frame is returned as a slice of that frame (no
/// copy). Bytes of a message that spans frames are gathered into one buffer, sized once from
/// the message's prefix. The size limit is checked against the prefix, before any of the
/// message is buffered.
struct GRPCMessageReader {
    /// Why the request stream cannot be read further.
    enum ReadError: Error, Equatable {
        /// The prefix declares more than the configured maximum.
        case messageTooLarge(declared: Int, limit: Int)
        /// The compressed flag is set but no compression was negotiated (only identity is).
        case compressedWithoutEncoding
        /// The flag byte is neither 0 nor 1.
        case invalidFlag(UInt8)
    }

    let maxMessageBytes: Int
    /// Received bytes not yet returned as messages.
    private var pending: ByteBuffer?

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Whether part of a message has been received but not all of it.
    var hasPartialMessage: Bool {
        guard let pending else { return false }
        return pending.readableBytes > 0
    }

    mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if self.pending == nil {
            self.pending = bytes
        } else {
            self.pending?.writeImmutableBuffer(bytes)
        }
    }

    /// The next complete message, or `nil` until more bytes arrive.
    mutating func next() throws(ReadError) -> ByteBuffer? {
        guard var buffer = self.pending else { return nil }
        let available = buffer.readableBytes
        guard available >= GRPCFraming.prefixLength,
            let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let declared = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else {
            return nil
        }
        switch flag {
        case 0: break
        case 1: throw .compressedWithoutEncoding
        default: throw .invalidFlag(flag)
        }
        let length = Int(declared)
        guard length <= self.maxMessageBytes else {
            throw .messageTooLarge(declared: length, limit: self.maxMessageBytes)
        }
        guard available >= GRPCFraming.prefixLength + length else {
            // Make room for the rest once instead of growing with every frame. Dropping our
            // copy first keeps the storage uniquely referenced, so this does not copy twice.
            self.pending = nil
            buffer.reserveCapacity(minimumWritableBytes: GRPCFraming.prefixLength + length - available)
            self.pending = buffer
            return nil
        }
        buffer.moveReaderIndex(forwardBy: GRPCFraming.prefixLength)
        // Cannot fail: `available` covers prefix and message.
        guard let message = buffer.readSlice(length: length) else { return nil }
        self.pending = buffer.readableBytes == 0 ? nil : buffer
        return message
    }
}
