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

/// The W3C identity of the current span as `RecentTracesTracer` records it.
private enum TraceContextKey: InstrumentationContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "switchyard.trace-context" }
}

extension InstrumentationContext {
    /// The service the current work belongs to (`gateway`, `orders`, …), if an entry point set it.
    package var serviceName: String? {
        get { self[ServiceNameKey.self] }
        set { self[ServiceNameKey.self] = newValue }
    }

    /// The current span's W3C trace context, when `RecentTracesTracer` is the tracer.
    package var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }

    /// A new top-level context marked as `service`'s work: where a request, a call or an event
    /// enters a service, the trace comes from what it carries, never from whatever task
    /// happens to run it.
    package static func entryPoint(of service: String) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        context.serviceName = service
        return context
    }
}
