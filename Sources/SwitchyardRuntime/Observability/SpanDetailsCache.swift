import Synchronization

/// A span's name and shared attributes, made once per key of a hot path (a gRPC method, a
/// repository operation, a gateway route) rather than on every call: building them was a
/// string or two and an attribute array per span.
package struct SpanDetails: Sendable {
    package let spanName: String
    package let attributes: SharedSpanAttributes
    /// `attributes` and what a normal end adds (a gRPC call's `rpc.grpc.status_code` 0), for
    /// the span to take in one step when it ends that way: the common outcome then costs the
    /// span no attribute of its own to store and render.
    package let completed: SharedSpanAttributes?

    package init(spanName: String, attributes: SharedSpanAttributes, completed: SharedSpanAttributes? = nil) {
        self.spanName = spanName
        self.attributes = attributes
        self.completed = completed
    }
}

/// `SpanDetails` by key, made on a key's first use and kept.
package final class SpanDetailsCache<Key: Hashable & Sendable>: Sendable {
    /// Past this many keys, details are made per call rather than kept: keys may come from
    /// callers (an HTTP method, a gRPC method name), and the table must not grow without end.
    private let capacity: Int
    private let make: @Sendable (Key) -> SpanDetails
    private let table = Mutex<[Key: SpanDetails]>([:])

    package init(capacity: Int = 256, make: @escaping @Sendable (Key) -> SpanDetails) {
        self.capacity = capacity
        self.make = make
    }

    package func details(of key: Key) -> SpanDetails {
        if let known = table.withLock({ $0[key] }) { return known }
        let details = make(key)
        table.withLock { table in
            if table.count < capacity { table[key] = details }
        }
        return details
    }
}
