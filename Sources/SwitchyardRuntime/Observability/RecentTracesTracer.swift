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
        return makeSpan(operationName, kind: kind, context: parentContext, parent: parentContext.spanIdentity, start: instant().nanosecondsSinceEpoch)
    }

    /// What `startSpan(_:context:ofKind:)` starts, called on this type directly: the protocol's
    /// entry point, through `any Tracer` with its autoclosures and generic instant, costs about
    /// as much again as making the span (see `SpanStarter`).
    package func startSpan(_ operationName: String, parent: InstrumentationContext, ofKind kind: SpanKind) -> RecordingSpan {
        makeSpan(operationName, kind: kind, context: parent, parent: parent.spanIdentity, start: DefaultTracerClock.now.nanosecondsSinceEpoch)
    }

    /// The span a call or request entering a service starts: what `extract` and then
    /// `startSpan` make, with the context written once instead of twice (each write copies
    /// the context's dictionary, a measurable share of what a traced call costs).
    /// - Parameters:
    ///   - headers: The W3C headers the caller sent; a malformed `traceparent` starts a new trace.
    ///   - entryPoint: The service's entry context (`InstrumentationContext.entryPoint(of:)`).
    package func startSpan(_ operationName: String, continuing headers: IncomingTraceHeaders, from entryPoint: InstrumentationContext, ofKind kind: SpanKind) -> RecordingSpan {
        let caller = Self.caller(traceparent: headers.traceparent, tracestate: headers.tracestate)
        var context = entryPoint
        if let state = caller?.state { context.traceState = state }
        return makeSpan(operationName, kind: kind, context: context, parent: caller?.identity, start: DefaultTracerClock.now.nanosecondsSinceEpoch)
    }

    private func makeSpan(_ operationName: String, kind: SpanKind, context: InstrumentationContext, parent: SpanIdentity?, start: UInt64) -> RecordingSpan {
        let identity = ids.next(parent: parent)
        return RecordingSpan(
            operationName: operationName,
            kind: kind,
            parentContext: context,
            identity: identity,
            service: context.serviceName,
            parentSpanID: parent?.spanID,
            start: start,
            store: store
        )
    }

    /// The caller's span and `tracestate` vendor entries, as its W3C headers give them; nil when
    /// there is no valid `traceparent` (the call starts a new trace), no state when it sent
    /// none or an invalid one.
    private static func caller(traceparent: String?, tracestate: String?) -> (identity: SpanIdentity, state: TraceState?)? {
        guard let traceparent, let identity = TraceParent.parse(traceparent) else { return nil }
        guard let tracestate, !tracestate.isEmpty else { return (identity, nil) }
        return (identity, try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate).state)
    }

    package func activeSpan(identifiedBy context: InstrumentationContext) -> RecordingSpan? { nil }

    package func forceFlush() {}

    package func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        // A malformed header starts a new trace rather than failing the request.
        let traceparent = extractor.extract(key: TraceHeaders.traceparent, from: carrier)
        guard traceparent != nil,
              let caller = Self.caller(traceparent: traceparent, tracestate: extractor.extract(key: TraceHeaders.tracestate, from: carrier))
        else { return }
        context.spanIdentity = caller.identity
        if let state = caller.state { context.traceState = state }
    }

    package func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let identity = context.spanIdentity else { return }
        Self.inject(identity, traceState: context.traceState, into: &carrier, using: injector)
    }

    /// Writes `traceparent` for `identity`, and `tracestate` when the trace carries one.
    static func inject<Carrier, Inject: Injector>(_ identity: SpanIdentity, traceState: TraceState?, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        injector.inject(TraceParent.format(identity), forKey: TraceHeaders.traceparent, into: &carrier)
        // Read directly: `traceContext` would look the identity up again and build a whole
        // `TraceContext` for every call, where a `tracestate` is rare.
        if let traceState {
            let header = TraceContext(traceID: identity.traceID, spanID: identity.spanID, flags: .sampled, state: traceState).traceStateHeaderValue
            if let header { injector.inject(header, forKey: TraceHeaders.tracestate, into: &carrier) }
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
        /// In the order set, a key at most once: a few pairs in an array cost one allocation
        /// and no hashing, where `SpanAttributes` is a dictionary.
        var attributes: [KeptAttribute] = []
        /// Attributes shared with other spans (`SharedSpanAttributes`), before `attributes`.
        var shared: SharedSpanAttributes?
        var error: String?
        var ended = false

        mutating func set(_ key: String, _ value: SpanAttribute) {
            if let index = attributes.firstIndex(where: { $0.key == key }) {
                attributes[index].value = KeptValue(value)
            } else {
                // Spans of this system set one or two of their own (the rest are shared).
                if attributes.isEmpty { attributes.reserveCapacity(4) }
                attributes.append(KeptAttribute(key: key, value: value))
            }
        }
    }

    /// The context of the span's caller (its parent span's, or an entry point's).
    private let parentContext: InstrumentationContext
    /// The span's own context, made up front for the spans whose work runs inside them
    /// (server, consumer, producer, internal). A client span's context is hardly ever read:
    /// the gRPC client injects its headers straight from `identity` (`injectTraceHeaders`) and
    /// a database span is never current, so making it (a copy of the context's dictionary)
    /// waits until someone asks.
    private let eagerContext: InstrumentationContext?
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
        parentContext: InstrumentationContext,
        identity: SpanIdentity,
        service: String?,
        parentSpanID: SpanID?,
        start: UInt64,
        store: RecentTraceStore
    ) {
        self.parentContext = parentContext
        self.eagerContext = kind == .client ? nil : Self.context(parentContext, with: identity)
        self.identity = identity
        self.service = service
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.start = start
        self.store = store
        self.state = Mutex(State(operationName: operationName))
    }

    package var context: InstrumentationContext {
        eagerContext ?? Self.context(parentContext, with: identity)
    }

    private static func context(_ parentContext: InstrumentationContext, with identity: SpanIdentity) -> InstrumentationContext {
        var context = parentContext
        context.spanIdentity = identity
        return context
    }

    /// Writes this span's `traceparent` (and the trace's `tracestate`) into `carrier`: what
    /// `tracer.inject(span.context, …)` writes, without making the context first.
    package func injectTraceHeaders<Carrier, Inject: Injector>(into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        RecentTracesTracer.inject(identity, traceState: parentContext.traceState, into: &carrier, using: injector)
    }

    package var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { $0.operationName = newValue } }
    }

    package var attributes: SpanAttributes {
        get {
            state.withLock { state in
                var attributes = SpanAttributes()
                for attribute in state.shared?.pairs ?? [] { attributes[attribute.key] = attribute.value.attribute }
                for attribute in state.attributes { attributes[attribute.key] = attribute.value.attribute }
                return attributes
            }
        }
        set {
            var pairs: [KeptAttribute] = []
            newValue.forEach { key, value in pairs.append(KeptAttribute(key: key, value: value)) }
            state.withLock { state in
                state.shared = nil
                state.attributes = pairs
            }
        }
    }

    /// Gives the span attributes it shares with others (see `Span.setAttributes(_:)`); a pair
    /// set on the span itself wins over a shared one with the same key.
    package func setAttributes(_ shared: SharedSpanAttributes) {
        state.withLock { $0.shared = shared }
    }

    /// Sets one attribute in place. The protocol's `span.attributes[…] = …` reads every
    /// attribute out and writes them back; `Span.setAttribute` comes here.
    package func setAttribute(_ name: String, _ value: SpanAttribute) {
        state.withLock { $0.set(name, value) }
    }

    /// Sets several attributes in place (see `Span.setAttributes`).
    package func setAttributes(_ pairs: KeyValuePairs<String, SpanAttribute>) {
        state.withLock { state in
            for (key, value) in pairs { state.set(key, value) }
        }
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
        end(nanoseconds: instant().nanosecondsSinceEpoch)
    }

    /// Ends the span now: `end()` without the protocol's generic instant and autoclosure.
    package func end() {
        end(nanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch)
    }

    private func end(nanoseconds end: UInt64) {
        // Recorded under the span's own lock (never contended: a span ends once, and nothing
        // takes the two locks the other way round), straight from its state rather than
        // moved out into a tuple first; the span keeps nothing once it has ended.
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            store.record(
                traceID: identity.traceID,
                spanID: identity.spanID,
                parentSpanID: parentSpanID,
                kind: kind,
                start: start,
                end: end,
                name: state.operationName,
                service: service,
                error: state.error,
                shared: state.shared,
                attributes: state.attributes
            )
            state.attributes = []
            state.shared = nil
        }
    }
}

/// Attributes that many spans carry alike (a gRPC method's `rpc.*`, a repository operation's
/// `db.*`), made once. A span given them keeps a reference, and the store copies their text in
/// one run; set pair by pair, every span would copy, convert and render each of them again.
package final class SharedSpanAttributes: Sendable {
    let pairs: [KeptAttribute]
    /// The pairs as the store keeps a span's attributes (`key US value RS` each).
    let text: [UInt8]

    package convenience init(_ pairs: KeyValuePairs<String, SpanAttribute>) {
        self.init(kept: pairs.map { KeptAttribute(key: $0.key, value: $0.value) })
    }

    private init(kept: [KeptAttribute]) {
        var ring = TextRing(capacity: RecentTraceStore.maximumTextPerSpan)
        ring.appendAttributes(kept, limit: RecentTraceStore.maximumTextPerSpan)
        self.pairs = kept
        self.text = ring.bytes(from: 0, count: ring.written) ?? []
    }

    /// These attributes and one more (which replaces a pair with the same key).
    package func adding(_ key: String, _ value: SpanAttribute) -> SharedSpanAttributes {
        SharedSpanAttributes(kept: pairs.filter { $0.key != key } + [KeptAttribute(key: key, value: value)])
    }
}

/// One attribute of a span. A struct rather than a tuple: arrays of tuples holding an enum
/// copy through the runtime's generic tuple witnesses, a measurable cost per span.
struct KeptAttribute: Sendable {
    var key: String
    var value: KeptValue

    init(key: String, value: SpanAttribute) {
        self.key = key
        self.value = KeptValue(value)
    }
}

/// An attribute's value while its span is open: the kinds spans here carry (text, integers,
/// flags) held directly, 17 bytes, anything else boxed. `SpanAttribute` itself is a 41-byte
/// enum with an existential case, which every copy, move and destruction of an attribute went
/// through the runtime's value witnesses for.
enum KeptValue: Sendable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case other(OtherAttribute)

    init(_ value: SpanAttribute) {
        switch value {
        case .string(let text): self = .string(text)
        case .int64(let number): self = .int(number)
        case .int32(let number): self = .int(Int64(number))
        case .bool(let flag): self = .bool(flag)
        default: self = .other(OtherAttribute(value))
        }
    }

    var attribute: SpanAttribute {
        switch self {
        case .string(let text): .string(text)
        case .int(let number): .int64(number)
        case .bool(let flag): .bool(flag)
        case .other(let other): other.value
        }
    }
}

/// An attribute of a rarer kind (a double, an array, …), boxed so `KeptValue` stays small.
final class OtherAttribute: Sendable {
    let value: SpanAttribute

    init(_ value: SpanAttribute) {
        self.value = value
    }
}

/// Starts the spans of a hot path (gateway, gRPC interceptors, database) on the process's
/// tracer, read once: on the in-memory tracer directly when it is that one.
package struct SpanStarter: Sendable {
    package let tracer: any Tracer
    /// `tracer`, when it is the in-memory one.
    package let recentTraces: RecentTracesTracer?

    /// The process's tracer: make starters after the process bootstrapped it.
    package init(tracer: any Tracer = InstrumentationSystem.tracer) {
        self.tracer = tracer
        self.recentTraces = tracer as? RecentTracesTracer
    }

    /// Whether tracing is off (no span records anything).
    package var isOff: Bool { tracer is NoOpTracer }

    /// Starts the span of a call or request entering a service, continuing the caller's trace
    /// from its W3C headers (a malformed `traceparent` starts a new trace): in one step on the
    /// in-memory tracer (`RecentTracesTracer.startSpan(_:continuing:from:ofKind:)`), through
    /// `extract` and `startSpan` otherwise.
    package func start(_ operationName: String, continuing headers: IncomingTraceHeaders, from entryPoint: InstrumentationContext, ofKind kind: SpanKind) -> TracedSpan {
        if let recentTraces {
            return TracedSpan(recentTraces.startSpan(operationName, continuing: headers, from: entryPoint, ofKind: kind))
        }
        var parent = entryPoint
        tracer.extract(headers, into: &parent, using: IncomingTraceHeadersExtractor())
        return TracedSpan(other: tracer.startSpan(operationName, context: parent, ofKind: kind))
    }

    package func start(_ operationName: String, context: InstrumentationContext, ofKind kind: SpanKind) -> TracedSpan {
        if let recentTraces {
            TracedSpan(recentTraces.startSpan(operationName, parent: context, ofKind: kind))
        } else {
            TracedSpan(other: tracer.startSpan(operationName, context: context, ofKind: kind))
        }
    }
}

/// A span as the hot paths (gateway, gRPC interceptors, database) hold it: with the
/// `RecordingSpan` it is, when it is one, found once. `any Span` is not class-bound, so every
/// `as? RecordingSpan` is a runtime cast, and a traced GET made about ten of them.
package struct TracedSpan: Sendable {
    private enum Kind: Sendable {
        case recording(RecordingSpan)
        case other(any Tracing.Span)
    }

    private let kind: Kind

    package init(_ span: any Tracing.Span) {
        if let recording = span as? RecordingSpan {
            self.kind = .recording(recording)
        } else {
            self.kind = .other(span)
        }
    }

    package init(_ span: RecordingSpan) {
        self.kind = .recording(span)
    }

    /// A span another tracer made: known not to be ours, so not cast.
    init(other span: any Tracing.Span) {
        self.kind = .other(span)
    }

    /// The span, when the in-memory tracer made it.
    package var recording: RecordingSpan? {
        if case .recording(let recording) = kind { recording } else { nil }
    }

    package var span: any Tracing.Span {
        switch kind {
        case .recording(let recording): recording
        case .other(let span): span
        }
    }

    package var isRecording: Bool {
        switch kind {
        case .recording(let recording): recording.isRecording
        case .other(let span): span.isRecording
        }
    }

    package var context: InstrumentationContext {
        switch kind {
        case .recording(let recording): recording.context
        case .other(let span): span.context
        }
    }

    package func setOperationName(_ name: String) {
        if let recording { recording.operationName = name } else { span.operationName = name }
    }

    /// Sets one attribute, in place when the span is ours (see `RecordingSpan.setAttribute`);
    /// nothing for a span that records nothing (a no-op span's `attributes` would build a
    /// dictionary only to drop it).
    package func setAttribute(_ name: String, _ value: SpanAttribute) {
        if let recording {
            recording.setAttribute(name, value)
        } else if span.isRecording {
            var attributes = span.attributes
            attributes.set(name, value: value)
            span.attributes = attributes
        }
    }

    /// Sets several attributes, in place when the span is ours; a new span's attributes are set
    /// with this, where `span.attributes = [...]` would build a dictionary to copy them from.
    package func setAttributes(_ pairs: KeyValuePairs<String, SpanAttribute>) {
        if let recording {
            recording.setAttributes(pairs)
        } else if span.isRecording {
            var attributes = span.attributes
            for (key, value) in pairs { attributes[key] = value }
            span.attributes = attributes
        }
    }

    /// Gives the span attributes shared with other spans: by reference when the span is ours,
    /// pair by pair otherwise.
    package func setAttributes(_ shared: SharedSpanAttributes) {
        if let recording {
            recording.setAttributes(shared)
        } else if span.isRecording {
            var attributes = span.attributes
            for pair in shared.pairs { attributes[pair.key] = pair.value.attribute }
            span.attributes = attributes
        }
    }

    /// Writes this span's trace headers into `carrier`: straight from its ids when the span is
    /// ours (`RecordingSpan.injectTraceHeaders`), through `tracer` from its context otherwise.
    package func injectTraceHeaders<Carrier, Inject: Injector>(into carrier: inout Carrier, using injector: Inject, tracer: any Tracer)
    where Inject.Carrier == Carrier {
        if let recording {
            recording.injectTraceHeaders(into: &carrier, using: injector)
        } else {
            tracer.inject(span.context, into: &carrier, using: injector)
        }
    }

    package func setStatus(_ status: SpanStatus) { span.setStatus(status) }

    package func recordError(_ error: any Error) { span.recordError(error) }

    package func end() {
        switch kind {
        case .recording(let recording): recording.end()
        case .other(let span): span.end()
        }
    }
}

extension Tracing.Span {
    /// `TracedSpan.setAttribute`, for code that holds a span once or twice.
    package func setAttribute(_ name: String, _ value: SpanAttribute) {
        TracedSpan(self).setAttribute(name, value)
    }

    /// `TracedSpan.setAttributes`, for code that holds a span once or twice.
    package func setAttributes(_ pairs: KeyValuePairs<String, SpanAttribute>) {
        TracedSpan(self).setAttributes(pairs)
    }
}

/// The most recent finished spans, in memory allocated once: a ring of fixed-size records and a
/// ring of bytes for their text (name, service, error, attributes). Memory stays bounded however
/// long the process runs, a trace stays findable until `capacity` newer spans have ended, and
/// keeping a span allocates and frees nothing.
///
/// Why this shape: spans kept as Swift values (strings, a dictionary of attributes) each held a
/// few heap blocks, and every one was freed long cold when the ring came round; measured side by
/// side (benchmarks/tracing), keeping 20,000 spans that way cost about a third of all that
/// tracing cost a GET. A record here holds no references, so overwriting one releases nothing,
/// and the text goes into the byte ring in order, written the way caches and prefetchers like.
/// Reading (`switchyard trace`, rarely) turns records back into `RecordedSpan`s.
package final class RecentTraceStore: Sendable {
    /// The attribute that names what an event is about (its CloudEvents subject, the order id),
    /// so `switchyard trace <order-id>` finds the traces that carried the order's events.
    package static let subjectAttribute = "switchyard.event.subject"
    /// Bytes of text budgeted per kept span: a span of this system writes 100–150.
    static let textBytesPerSpan = 192
    /// Text past this is cut: one span with a huge attribute must not wipe out the text of
    /// hundreds of others.
    static let maximumTextPerSpan = 4096

    /// A kept span's fixed part: plain values only, so overwriting one releases nothing.
    private struct Record {
        var traceID: TraceID
        var spanID: SpanID
        var parentSpanID: SpanID?
        var kind: SpanKind
        var hasError: Bool
        var start: UInt64
        var end: UInt64
        /// Where the span's text begins in the stream of every byte the text ring was given,
        /// and how many bytes it has.
        var textStart: Int
        var textCount: Int
    }

    private struct Storage {
        var records: [Record?]
        var nextRecord = 0
        var text: TextRing
    }

    package let capacity: Int
    private let storage: Mutex<Storage>

    package init(capacity: Int = 20_000) {
        self.capacity = max(1, capacity)
        let textBytes = max(Self.maximumTextPerSpan, self.capacity * Self.textBytesPerSpan)
        self.storage = Mutex(Storage(records: Array(repeating: nil, count: self.capacity), text: TextRing(capacity: textBytes)))
    }

    /// Keeps a finished span, replacing the oldest kept one when the ring is full.
    func record(
        traceID: TraceID,
        spanID: SpanID,
        parentSpanID: SpanID?,
        kind: SpanKind,
        start: UInt64,
        end: UInt64,
        name: String,
        service: String?,
        error: String?,
        shared: SharedSpanAttributes? = nil,
        attributes: [KeptAttribute]
    ) {
        storage.withLock { storage in
            let textStart = storage.text.written
            let limit = textStart + Self.maximumTextPerSpan
            storage.text.append(name, limit: limit)
            storage.text.append(TextRing.record, limit: limit)
            storage.text.append(service ?? "", limit: limit)
            storage.text.append(TextRing.record, limit: limit)
            storage.text.append(error ?? "", limit: limit)
            storage.text.append(TextRing.record, limit: limit)
            if let shared { storage.text.appendRendered(shared.text, limit: limit) }
            storage.text.appendAttributes(attributes, limit: limit)
            storage.records[storage.nextRecord] = Record(
                traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, kind: kind, hasError: error != nil,
                start: start, end: end, textStart: textStart, textCount: storage.text.written - textStart
            )
            storage.nextRecord = (storage.nextRecord + 1) % storage.records.count
        }
    }

    /// Every kept span whose text is still whole, oldest first.
    package var allSpans: [RecordedSpan] {
        storage.withLock { storage in
            let order = storage.records[storage.nextRecord...] + storage.records[..<storage.nextRecord]
            return order.compactMap { record in
                guard let record, let text = storage.text.bytes(from: record.textStart, count: record.textCount) else { return nil }
                return Self.recorded(record, text: text)
            }
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
            traceIDs = Set(spans.lazy.filter { $0.attributes[Self.subjectAttribute] == id }.map(\.traceID))
        }
        return spans.filter { traceIDs.contains($0.traceID) }
    }

    static func isTraceID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0 | 0x20) }
    }

    /// A kept span read back; `text` is `name RS service RS error RS`, then `key US value RS`
    /// per attribute.
    private static func recorded(_ record: Record, text: [UInt8]) -> RecordedSpan {
        let fields = text.split(separator: TextRing.record, omittingEmptySubsequences: false)
        func field(_ index: Int) -> String {
            index < fields.count ? String(decoding: fields[index], as: UTF8.self) : ""
        }
        let service = field(1)
        var attributes: [String: String] = [:]
        // The last field is what follows the final separator (empty), or a pair cut short.
        for pair in fields.dropFirst(3) {
            guard let unit = pair.firstIndex(of: TextRing.unit) else { continue }
            attributes[String(decoding: pair[..<unit], as: UTF8.self)] = String(decoding: pair[(unit + 1)...], as: UTF8.self)
        }
        return RecordedSpan(
            traceID: "\(record.traceID)", spanID: "\(record.spanID)", parentSpanID: record.parentSpanID.map { "\($0)" }, name: field(0),
            kind: record.kind.recordedName, service: service.isEmpty ? nil : service, startNanoseconds: record.start,
            endNanoseconds: record.end, error: record.hasError ? field(2) : nil, attributes: attributes
        )
    }
}

/// A ring of bytes written in order: older bytes are overwritten as newer ones come, and a
/// reader asks for a range by its position in the whole stream, which it gets back only while
/// no newer byte has overwritten it.
///
/// Fields are separated with the ASCII record separator (RS) and a key from its value with the
/// unit separator (US); either byte inside a value becomes a space, as it has no business there.
struct TextRing {
    static let record: UInt8 = 0x1E
    static let unit: UInt8 = 0x1F

    private var storage: [UInt8]
    /// Where the next byte goes.
    private var position = 0
    /// Every byte ever written, overwritten or not.
    private(set) var written = 0

    init(capacity: Int) {
        storage = Array(repeating: 0, count: max(1, capacity))
    }

    /// Appends one byte, unless the stream has reached `limit`.
    mutating func append(_ byte: UInt8, limit: Int) {
        guard written < limit else { return }
        storage[position] = byte
        position += 1
        if position == storage.count { position = 0 }
        written += 1
    }

    /// Appends a field's text, separators turned into spaces, stopping at `limit`.
    mutating func append(_ text: String, limit: Int) {
        var text = text
        text.withUTF8 { append($0, limit: limit) }
    }

    /// Appends `key US value RS` per attribute.
    mutating func appendAttributes(_ attributes: [KeptAttribute], limit: Int) {
        for attribute in attributes {
            append(attribute.key, limit: limit)
            append(TextRing.unit, limit: limit)
            append(attribute.value, limit: limit)
            append(TextRing.record, limit: limit)
        }
    }

    /// Appends text rendered by another ring (`SharedSpanAttributes`): its separators are
    /// meant, and kept.
    mutating func appendRendered(_ rendered: [UInt8], limit: Int) {
        rendered.withUnsafeBufferPointer { append($0, limit: limit, blankingSeparators: false) }
    }

    /// Appends bytes in at most two runs (the ring wraps once at most per call, since no field
    /// is longer than the ring), separators turned into spaces unless told otherwise, stopping
    /// at `limit`.
    private mutating func append(_ source: UnsafeBufferPointer<UInt8>, limit: Int, blankingSeparators: Bool = true) {
        let count = min(source.count, max(0, limit - written), storage.count)
        guard count > 0 else { return }
        let start = position
        storage.withUnsafeMutableBufferPointer { ring in
            var copied = 0
            var at = start
            // Copied whole, then separators blanked in place: two simple loops the compiler turns
            // into wide ones, where one loop from a buffer that might alias the ring went a byte
            // at a time.
            guard let target = ring.baseAddress, let origin = source.baseAddress else { return }
            while copied < count {
                let run = min(count - copied, ring.count - at)
                (target + at).update(from: origin + copied, count: run)
                if blankingSeparators {
                    for index in at..<(at + run) where ring[index] & 0xFE == 0x1E {
                        ring[index] = 0x20
                    }
                }
                copied += run
                at += run
                if at == ring.count { at = 0 }
            }
        }
        position = (start + count) % storage.count
        written += count
    }

    /// Appends an attribute's value as text: numbers and strings without allocating.
    mutating func append(_ value: KeptValue, limit: Int) {
        switch value {
        case .string(let text): append(text, limit: limit)
        case .int(let number): append(number, limit: limit)
        case .bool(let flag): append(flag ? "true" : "false", limit: limit)
        case .other(let other): append(other.value.recordedText, limit: limit)
        }
    }

    /// Appends a number's decimal digits.
    mutating func append(_ number: Int64, limit: Int) {
        if number < 0 { append(UInt8(ascii: "-"), limit: limit) }
        var magnitude = number.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(magnitude / divisor), limit: limit)
            magnitude %= divisor
            divisor /= 10
        }
    }

    /// The `count` bytes written from stream position `start`, or nil when newer bytes have
    /// overwritten any of them.
    func bytes(from start: Int, count: Int) -> [UInt8]? {
        guard start >= 0, count >= 0, written - start <= storage.count, start + count <= written else { return nil }
        let first = start % storage.count
        let head = min(count, storage.count - first)
        return Array(storage[first..<(first + head)]) + storage[0..<(count - head)]
    }
}
