package import Instrumentation
package import GRPCCore

/// W3C trace headers (`traceparent`, `tracestate`) as a plain dictionary: how event envelopes
/// carry the trace (the CloudEvents distributed-tracing extension) and how a trace crosses a
/// database transaction that runs off the task.
package enum TraceHeaders {
    package static let traceparent = "traceparent"
    package static let tracestate = "tracestate"

    /// The current context's trace headers, as the bootstrapped instrument writes them; empty
    /// when there is no trace (or tracing is off).
    package static func current() -> [String: String] {
        guard let context = InstrumentationContext.current else { return [:] }
        return headers(of: context)
    }

    /// `context`'s trace headers.
    package static func headers(of context: InstrumentationContext) -> [String: String] {
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: DictionaryInjector())
        return headers
    }

    /// `base` with the trace that `headers` carry, if any.
    package static func context(from headers: [String: String], base: InstrumentationContext) -> InstrumentationContext {
        var context = base
        InstrumentationSystem.instrument.extract(headers, into: &context, using: DictionaryExtractor())
        return context
    }
}

package struct DictionaryInjector: Injector {
    package init() {}
    package func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

package struct DictionaryExtractor: Extractor {
    package init() {}
    package func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}

/// Trace context in gRPC metadata, as W3C headers (`traceparent`, `tracestate`).
package struct MetadataInjector: Injector {
    package init() {}
    package func inject(_ value: String, forKey key: String, into carrier: inout Metadata) {
        // `replaceOrAddString` rebuilds the storage even when there is nothing to replace,
        // which is every call but a caller's own (misguided) `traceparent`.
        if carrier[stringValues: key].contains(where: { _ in true }) {
            carrier.replaceOrAddString(value, forKey: key)
        } else {
            carrier.addString(value, forKey: key)
        }
    }
}

/// The two trace headers of a call's metadata, found in one pass: a tracer asks for
/// `traceparent` and then `tracestate`, and asking `Metadata` for each walks every entry of the
/// call (pseudo-headers, user agent, …) comparing names case-insensitively, twice per call.
/// HTTP/2 field names arrive lower case (RFC 9113 §8.2.1), so an exact comparison is enough.
package struct IncomingTraceHeaders: Sendable {
    package var traceparent: String?
    package var tracestate: String?

    package init(traceparent: String?, tracestate: String?) {
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    package init(_ metadata: Metadata) {
        for (key, value) in metadata {
            guard case .string(let text) = value else { continue }
            switch key.utf8.count {
            case 11 where traceparent == nil && key == TraceHeaders.traceparent: traceparent = text
            case 10 where tracestate == nil && key == TraceHeaders.tracestate: tracestate = text
            default: continue
            }
        }
    }
}

package struct IncomingTraceHeadersExtractor: Extractor {
    package init() {}
    package func extract(key: String, from carrier: IncomingTraceHeaders) -> String? {
        switch key {
        case TraceHeaders.traceparent: carrier.traceparent
        case TraceHeaders.tracestate: carrier.tracestate
        default: nil
        }
    }
}
