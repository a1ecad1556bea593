package import Instrumentation
package import W3CTraceContext

/// The service a piece of work belongs to. `switchyard dev` runs every service in one
/// process, so the process cannot say which service made a span or a log line; each entry
/// point (gRPC server, consumer, relay, gateway) puts its service's name in the context, and
/// spans and log lines started under it carry the name.
private enum ServiceNameKey: InstrumentationContextKey {
    typealias Value = String
    static var nameOverride: String? { "switchyard.service" }
}

/// The current span's trace and span id as `RecentTracesTracer` records them.
private enum SpanIdentityKey: InstrumentationContextKey {
    typealias Value = SpanIdentity
    static var nameOverride: String? { "switchyard.span" }
}

/// The vendor `tracestate` a caller sent, kept only when there is one.
private enum TraceStateKey: InstrumentationContextKey {
    typealias Value = TraceState
    static var nameOverride: String? { "switchyard.tracestate" }
}

/// A span's place in its trace: 24 bytes, which an `InstrumentationContext` (a dictionary of
/// existentials) stores inline. A whole `TraceContext` is 40 and would cost a heap box per span.
package struct SpanIdentity: Hashable, Sendable {
    package var traceID: TraceID
    package var spanID: SpanID

    package init(traceID: TraceID, spanID: SpanID) {
        self.traceID = traceID
        self.spanID = spanID
    }
}

extension InstrumentationContext {
    /// The service the current work belongs to (`gateway`, `orders`, …), if an entry point set it.
    package var serviceName: String? {
        get { self[ServiceNameKey.self] }
        set { self[ServiceNameKey.self] = newValue }
    }

    /// The current span's ids, when `RecentTracesTracer` is the tracer.
    package var spanIdentity: SpanIdentity? {
        get { self[SpanIdentityKey.self] }
        set { self[SpanIdentityKey.self] = newValue }
    }

    /// The caller's `tracestate`, carried along unchanged; nil when it sent none.
    package var traceState: TraceState? {
        get { self[TraceStateKey.self] }
        set { self[TraceStateKey.self] = newValue.flatMap { $0.isEmpty ? nil : $0 } }
    }

    /// The current span's W3C trace context (every span is sampled).
    package var traceContext: TraceContext? {
        guard let identity = spanIdentity else { return nil }
        return TraceContext(traceID: identity.traceID, spanID: identity.spanID, flags: .sampled, state: traceState ?? TraceState())
    }

    /// A new top-level context marked as `service`'s work: where a request, a call or an event
    /// enters a service, the trace comes from what it carries, never from whatever task
    /// happens to run it.
    package static func entryPoint(of service: String) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        context.serviceName = service
        // Room made for the span identity that every span started from here adds: a
        // dictionary keeps its capacity when a key is removed, so each span's context is then
        // a plain copy rather than a copy grown and rehashed.
        context.spanIdentity = SpanIdentity(traceID: .null, spanID: .null)
        context.spanIdentity = nil
        return context
    }
}
