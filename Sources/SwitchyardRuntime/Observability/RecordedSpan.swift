import Foundation
import Tracing

/// A finished span as `RecentTraceStore` keeps it and `GET /debug/traces/{id}` serves it: plain
/// values, so `switchyard trace` can merge the spans of several processes and print one tree.
package struct RecordedSpan: Sendable, Hashable, Codable {
    package var traceID: String
    package var spanID: String
    /// Absent for a trace's root span.
    package var parentSpanID: String?
    package var name: String
    /// `server`, `client`, `producer`, `consumer` or `internal`.
    package var kind: String
    /// The service that made it (`gateway`, `orders`, …).
    package var service: String?
    package var startNanoseconds: UInt64
    package var endNanoseconds: UInt64
    /// `error` with a message, or nil when the span did not fail.
    package var error: String?
    /// Every attribute, printed as text.
    package var attributes: [String: String]

    package init(
        traceID: String,
        spanID: String,
        parentSpanID: String?,
        name: String,
        kind: String,
        service: String?,
        startNanoseconds: UInt64,
        endNanoseconds: UInt64,
        error: String?,
        attributes: [String: String]
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.service = service
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.error = error
        self.attributes = attributes
    }

    package var duration: Duration {
        .nanoseconds(Int64(clamping: endNanoseconds &- min(startNanoseconds, endNanoseconds)))
    }
}

extension SpanKind {
    var recordedName: String {
        switch self {
        case .server: "server"
        case .client: "client"
        case .producer: "producer"
        case .consumer: "consumer"
        case .internal: "internal"
        }
    }
}

extension SpanAttribute {
    /// The value as text, for a record that does not care about types.
    var recordedText: String {
        switch self {
        case .int32(let value): "\(value)"
        case .int64(let value): "\(value)"
        case .int32Array(let values): "\(values)"
        case .int64Array(let values): "\(values)"
        case .double(let value): "\(value)"
        case .doubleArray(let values): "\(values)"
        case .bool(let value): "\(value)"
        case .boolArray(let values): "\(values)"
        case .string(let value): value
        case .stringArray(let values): "\(values)"
        case .stringConvertible(let value): "\(value)"
        case .stringConvertibleArray(let values): "\(values)"
        default: "\(self)"
        }
    }
}
