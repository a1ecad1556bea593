import NIOCore

/// A FIFO of received messages that does not allocate for the common one-message request.
struct MessageQueue {
    private enum Storage {
        case empty
        case one(ByteBuffer)
        case many(CircularBuffer<ByteBuffer>)
    }

    private var storage: Storage = .empty

    var isEmpty: Bool {
        switch storage {
        case .empty: return true
        case .one: return false
        case .many(let buffer): return buffer.isEmpty
        }
    }

    mutating func append(_ message: ByteBuffer) {
        switch storage {
        case .empty:
            storage = .one(message)
        case .one(let first):
            var buffer = CircularBuffer<ByteBuffer>(initialCapacity: 4)
            buffer.append(first)
            buffer.append(message)
            storage = .many(buffer)
        case .many(var buffer):
            // Reset first so `buffer` is uniquely referenced and appends in place.
            storage = .empty
            buffer.append(message)
            storage = .many(buffer)
        }
    }

    mutating func popFirst() -> ByteBuffer? {
        switch storage {
        case .empty:
            return nil
        case .one(let message):
            storage = .empty
            return message
        case .many(var buffer):
            storage = .empty
            let first = buffer.popFirst()
            storage = .many(buffer)
            return first
        }
    }

    mutating func removeAll() {
        storage = .empty
    }
}
