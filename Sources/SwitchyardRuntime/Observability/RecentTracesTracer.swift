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
    private let ids = SpanIDGenerator()

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
        let parent = parentContext.spanIdentity
        let identity = ids.next(parent: parent)
        var spanContext = parentContext
        spanContext.spanIdentity = identity
        return RecordingSpan(
            operationName: operationName,
            kind: kind,
            context: spanContext,
            identity: identity,
            service: parentContext.serviceName,
            parentSpanID: parent?.spanID,
            start: instant().nanosecondsSinceEpoch,
            store: store
        )
    }

    package func activeSpan(identifiedBy context: InstrumentationContext) -> RecordingSpan? { nil }

    package func forceFlush() {}

    package func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        // A malformed header starts a new trace rather than failing the request.
        guard let traceparent = extractor.extract(key: TraceHeaders.traceparent, from: carrier),
              let remote = TraceParent.parse(traceparent)
        else { return }
        context.spanIdentity = remote
        if let tracestate = extractor.extract(key: TraceHeaders.tracestate, from: carrier), !tracestate.isEmpty,
           let state = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate).state {
            context.traceState = state
        }
    }

    package func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let identity = context.spanIdentity else { return }
        injector.inject(TraceParent.format(identity), forKey: TraceHeaders.traceparent, into: &carrier)
        if let state = context.traceContext?.traceStateHeaderValue {
            injector.inject(state, forKey: TraceHeaders.tracestate, into: &carrier)
        }
    }
}

/// Trace and span ids from a xoshiro256** generator seeded once from the system's: the system
/// generator is a `getrandom` call per 8 bytes, three per span; ids need to be unique, not
/// secret.
final class SpanIDGenerator: Sendable {
    private struct Xoshiro256: RandomNumberGenerator {
        var s: (UInt64, UInt64, UInt64, UInt64)

        init() {
            var system = SystemRandomNumberGenerator()
            s = (system.next(), system.next(), system.next(), system.next() | 1)
        }

        mutating func next() -> UInt64 {
            let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
            let t = s.1 << 17
            s.2 ^= s.0
            s.3 ^= s.1
            s.1 ^= s.2
            s.0 ^= s.3
            s.2 ^= t
            s.3 = s.3 << 45 | s.3 >> 19
            return result
        }
    }

    private let generator = Mutex(Xoshiro256())

    /// A new span's identity: a fresh span id in `parent`'s trace, or in a new trace.
    func next(parent: SpanIdentity?) -> SpanIdentity {
        generator.withLock { generator in
            SpanIdentity(traceID: parent?.traceID ?? .random(using: &generator), spanID: .random(using: &generator))
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
    /// Kept beside the context, which would cost a dictionary lookup each to read back.
    private let identity: SpanIdentity
    private let service: String?
    private let kind: SpanKind
    private let parentSpanID: SpanID?
    private let start: UInt64
    private let store: RecentTraceStore
    private let state: Mutex<State>

    init(
        operationName: String,
        kind: SpanKind,
        context: InstrumentationContext,
        identity: SpanIdentity,
        service: String?,
        parentSpanID: SpanID?,
        start: UInt64,
        store: RecentTraceStore
    ) {
        self.context = context
        self.identity = identity
        self.service = service
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

    /// Sets one attribute in place. The protocol's `span.attributes[…] = …` reads the whole
    /// dictionary out and writes it back, which copies it; `Span.setAttribute` comes here.
    package func setAttribute(_ name: String, _ value: SpanAttribute) {
        state.withLock { $0.attributes.set(name, value: value) }
    }

    package var isRecording: Bool { state.withLock { !$0.ended } }

    package func setStatus(_ status: SpanStatus) {
        guard status.code == .error else { return }
        state.withLock { $0.error = status.message ?? $0.error ?? "error" }
    }

    package func addEvent(_ event: SpanEvent) {}

    package func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        let text = "\(error)"
        state.withLock { $0.error = text }
    }

    package func addLink(_ link: SpanLink) {}

    package func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            defer { state.attributes = [:] }
            return state
        }
        guard let finished else { return }
        // Kept as it is: turning ids and attributes into text costs more than the rest of a
        // span, and only the few spans someone asks for are ever read.
        store.record(
            FinishedSpan(
                traceID: identity.traceID,
                spanID: identity.spanID,
                parentSpanID: parentSpanID,
                name: finished.operationName,
                kind: kind,
                service: service,
                start: start,
                end: instant().nanosecondsSinceEpoch,
                error: finished.error,
                attributes: AttributeText(finished.attributes)
            )
        )
    }
}

extension Tracing.Span {
    /// Sets one attribute, in place when the span is ours (see `RecordingSpan.setAttribute`).
    package func setAttribute(_ name: String, _ value: SpanAttribute) {
        if let recording = self as? RecordingSpan {
            recording.setAttribute(name, value)
        } else {
            attributes.set(name, value: value)
        }
    }
}

extension SpanAttributes {
    /// `pairs`, with room for `extra` more set later: one allocation, where setting them one by
    /// one grows the dictionary twice.
    package static func with(_ pairs: KeyValuePairs<String, SpanAttribute>, roomFor extra: Int = 0) -> SpanAttributes {
        var storage = [String: SpanAttribute](minimumCapacity: pairs.count + extra)
        for (key, value) in pairs { storage[key] = value }
        return SpanAttributes(storage)
    }
}

/// A finished span as the store keeps it, in the tracer's own types.
struct FinishedSpan: Sendable {
    var traceID: TraceID
    var spanID: SpanID
    var parentSpanID: SpanID?
    var name: String
    var kind: SpanKind
    var service: String?
    var start: UInt64
    var end: UInt64
    var error: String?
    var attributes: AttributeText

    var recorded: RecordedSpan {
        RecordedSpan(
            traceID: "\(traceID)", spanID: "\(spanID)", parentSpanID: parentSpanID.map { "\($0)" }, name: name, kind: kind.recordedName,
            service: service, startNanoseconds: start, endNanoseconds: end, error: error, attributes: attributes.dictionary
        )
    }

    func hasSubject(_ subject: String) -> Bool {
        attributes.value(of: RecentTraceStore.subjectAttribute) == subject
    }
}

/// A finished span's attributes as one string of `key US value RS` pairs (ASCII unit and record
/// separators). The ring keeps 20,000 spans: as `SpanAttributes` each would hold a dictionary of
/// about half a kilobyte, allocated when the span began and freed, long cold, when the ring
/// came round; measured side by side, keeping them cost 2–3% of a GET's throughput. One small
/// string is a fifth of that, and the dictionary is freed while it is still in cache.
struct AttributeText: Sendable {
    private static let unit: Character = "\u{1F}"
    private static let record: Character = "\u{1E}"
    private var text: String

    init(_ attributes: SpanAttributes) {
        var text = ""
        text.reserveCapacity(128)
        attributes.forEach { key, value in
            text.append(key)
            text.append(Self.unit)
            let valueText = value.recordedText
            if valueText.utf8.contains(where: { $0 == 0x1E || $0 == 0x1F }) {
                // Separators inside a value would split it; they have no business there.
                text.append(contentsOf: valueText.filter { $0 != Self.unit && $0 != Self.record })
            } else {
                text.append(valueText)
            }
            text.append(Self.record)
        }
        self.text = text
    }

    private var pairs: some Sequence<(Substring, Substring)> {
        text.split(separator: Self.record).lazy.compactMap { pair in
            guard let separator = pair.firstIndex(of: Self.unit) else { return nil }
            return (pair[..<separator], pair[pair.index(after: separator)...])
        }
    }

    var dictionary: [String: String] {
        var dictionary: [String: String] = [:]
        for (key, value) in pairs { dictionary[String(key)] = String(value) }
        return dictionary
    }

    func value(of key: String) -> String? {
        pairs.first { $0.0 == key }.map { String($0.1) }
    }
}

/// The most recent finished spans, in a ring of fixed size: memory stays bounded however long
/// the process runs, and a trace stays findable until `capacity` newer spans have ended.
package final class RecentTraceStore: Sendable {
    /// The attribute that names what an event is about (its CloudEvents subject, the order id),
    /// so `switchyard trace <order-id>` finds the traces that carried the order's events.
    package static let subjectAttribute = "switchyard.event.subject"

    private struct Ring {
        var spans: [FinishedSpan?]
        var next = 0
    }

    package let capacity: Int
    private let ring: Mutex<Ring>

    package init(capacity: Int = 20_000) {
        self.capacity = max(1, capacity)
        self.ring = Mutex(Ring(spans: Array(repeating: nil, count: max(1, capacity))))
    }

    func record(_ span: FinishedSpan) {
        // The span it replaces is released after the lock: its deinit need not hold others up.
        let replaced: FinishedSpan? = ring.withLock { ring in
            let old = ring.spans[ring.next]
            ring.spans[ring.next] = span
            ring.next = (ring.next + 1) % ring.spans.count
            return old
        }
        _ = replaced
    }

    private var finishedSpans: [FinishedSpan] {
        ring.withLock { ring in
            Array((ring.spans[ring.next...] + ring.spans[..<ring.next]).compactMap { $0 })
        }
    }

    /// Every kept span, oldest first.
    package var allSpans: [RecordedSpan] {
        finishedSpans.map(\.recorded)
    }

    /// The spans of the traces `id` names: a trace id (32 hex digits), or the subject of events
    /// (an order id), which finds every trace that carried an event about it.
    package func spans(matching id: String) -> [RecordedSpan] {
        let spans = finishedSpans
        let traceIDs: Set<TraceID>
        if Self.isTraceID(id) {
            let wanted = id.lowercased()
            traceIDs = Set(spans.lazy.filter { "\($0.traceID)" == wanted }.map(\.traceID))
        } else {
            traceIDs = Set(spans.lazy.filter { $0.hasSubject(id) }.map(\.traceID))
        }
        return spans.filter { traceIDs.contains($0.traceID) }.map(\.recorded)
    }

    static func isTraceID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0 | 0x20) }
    }
}
