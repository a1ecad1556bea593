import Foundation
package import Instrumentation
import Synchronization
package import Tracing
import W3CTraceContext

/// The tracer of `switchyard dev` (and of any process with no OTLP endpoint): W3C trace
/// context on the wire, every finished span kept in a bounded `RecentTraceStore`, which
/// `GET /debug/traces/{id}` serves and `switchyard trace` prints as a tree.
///
/// Spans are sampled always: a dev system wants every trace, and a process that cannot
/// afford that turns tracing off (`tracing.enabled=false`) or exports to a collector that
/// samples.
package struct RecentTracesTracer: Tracer {
    package typealias Span = RecordingSpan

    package let store: RecentTraceStore

    package init(store: RecentTraceStore) {
        self.store = store
    }

    package func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> RecordingSpan {
        let parentContext = context()
        let parent = parentContext.traceContext
        let identity = TraceContext(
            traceID: parent?.traceID ?? .random(),
            spanID: .random(),
            flags: .sampled,
            state: parent?.state ?? TraceState()
        )
        var spanContext = parentContext
        spanContext.traceContext = identity
        return RecordingSpan(
            operationName: operationName,
            kind: kind,
            context: spanContext,
            parentSpanID: parent.map { "\($0.spanID)" },
            start: instant().nanosecondsSinceEpoch,
            store: store
        )
    }

    package func activeSpan(identifiedBy context: InstrumentationContext) -> RecordingSpan? { nil }

    package func forceFlush() {}

    package func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: TraceHeaders.traceparent, from: carrier) else { return }
        let tracestate = extractor.extract(key: TraceHeaders.tracestate, from: carrier)
        // A malformed header starts a new trace rather than failing the request.
        guard let remote = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate) else { return }
        context.traceContext = remote
    }

    package func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let identity = context.traceContext else { return }
        injector.inject(identity.traceParentHeaderValue, forKey: TraceHeaders.traceparent, into: &carrier)
        if let state = identity.traceStateHeaderValue, !state.isEmpty {
            injector.inject(state, forKey: TraceHeaders.tracestate, into: &carrier)
        }
    }
}

/// A span of `RecentTracesTracer`: mutable until it ends, then recorded once.
package final class RecordingSpan: Tracing.Span {
    private struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var error: String?
        var ended = false
    }

    package let context: InstrumentationContext
    private let kind: SpanKind
    private let parentSpanID: String?
    private let start: UInt64
    private let store: RecentTraceStore
    private let state: Mutex<State>

    init(operationName: String, kind: SpanKind, context: InstrumentationContext, parentSpanID: String?, start: UInt64, store: RecentTraceStore) {
        self.context = context
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.start = start
        self.store = store
        self.state = Mutex(State(operationName: operationName))
    }

    package var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { $0.operationName = newValue } }
    }

    package var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    package var isRecording: Bool { state.withLock { !$0.ended } }

    package func setStatus(_ status: SpanStatus) {
        guard status.code == .error else { return }
        state.withLock { $0.error = status.message ?? $0.error ?? "error" }
    }

    package func addEvent(_ event: SpanEvent) {}

    package func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        state.withLock { $0.error = "\(error)" }
    }

    package func addLink(_ link: SpanLink) {}

    package func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished, let identity = context.traceContext else { return }
        var attributes: [String: String] = [:]
        finished.attributes.forEach { key, value in attributes[key] = value.recordedText }
        store.record(
            RecordedSpan(
                traceID: "\(identity.traceID)",
                spanID: "\(identity.spanID)",
                parentSpanID: parentSpanID,
                name: finished.operationName,
                kind: kind.recordedName,
                service: context.serviceName,
                startNanoseconds: start,
                endNanoseconds: instant().nanosecondsSinceEpoch,
                error: finished.error,
                attributes: attributes
            )
        )
    }
}

/// The most recent finished spans, in a ring of fixed size: memory stays bounded however long
/// the process runs, and a trace stays findable until `capacity` newer spans have ended.
package final class RecentTraceStore: Sendable {
    /// The attribute that names what an event is about (its CloudEvents subject, the order id),
    /// so `switchyard trace <order-id>` finds the traces that carried the order's events.
    package static let subjectAttribute = "switchyard.event.subject"

    private struct Ring {
        var spans: [RecordedSpan?]
        var next = 0
    }

    package let capacity: Int
    private let ring: Mutex<Ring>

    package init(capacity: Int = 20_000) {
        self.capacity = max(1, capacity)
        self.ring = Mutex(Ring(spans: Array(repeating: nil, count: max(1, capacity))))
    }

    func record(_ span: RecordedSpan) {
        ring.withLock { ring in
            ring.spans[ring.next] = span
            ring.next = (ring.next + 1) % ring.spans.count
        }
    }

    /// Every kept span, oldest first.
    package var allSpans: [RecordedSpan] {
        ring.withLock { ring in
            Array((ring.spans[ring.next...] + ring.spans[..<ring.next]).compactMap { $0 })
        }
    }

    /// The spans of the traces `id` names: a trace id (32 hex digits), or the subject of events
    /// (an order id), which finds every trace that carried an event about it.
    package func spans(matching id: String) -> [RecordedSpan] {
        let spans = allSpans
        let traceIDs: Set<String>
        if Self.isTraceID(id) {
            traceIDs = [id.lowercased()]
        } else {
            traceIDs = Set(spans.filter { $0.attributes[Self.subjectAttribute] == id }.map(\.traceID))
        }
        return spans.filter { traceIDs.contains($0.traceID) }
    }

    static func isTraceID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0 | 0x20) }
    }
}
