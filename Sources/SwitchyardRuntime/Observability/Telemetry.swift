import Instrumentation
package import Logging
import Metrics
package import Prometheus
package import Tracing
import W3CTraceContext

/// What a process's services need of its telemetry: the Prometheus registry `/metrics`
/// renders, and the recent spans `/debug/traces` serves when spans stay in memory. Made once
/// per process by `TelemetryBootstrap` (or by a test) and handed to every composition root.
package struct Telemetry: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// Present when spans are kept in memory (no OTLP collector, tracing on).
    package let recentTraces: RecentTraceStore?
    package let sampleInterval: Duration

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), recentTraces: RecentTraceStore? = nil, sampleInterval: Duration = .seconds(5)) {
        self.registry = registry
        self.recentTraces = recentTraces
        self.sampleInterval = sampleInterval
    }

    /// `/metrics`: the Prometheus text exposition of everything the process recorded.
    package func prometheusText() -> [UInt8] {
        registry.emitToBuffer()
    }
}

/// The process-wide halves of telemetry: swift-metrics and swift-distributed-tracing are
/// bootstrapped once per process, before any service is made.
package enum TelemetryBootstrap {
    /// Installs the Prometheus metrics factory and, unless `tracer` is given (an OTLP exporter)
    /// or tracing is off, a `RecentTracesTracer`.
    ///
    /// - Returns: The process's `Telemetry`.
    package static func bootstrap(_ configuration: TelemetryConfiguration, tracer: (any Tracer)? = nil) -> Telemetry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusNaming.factory(registry: registry))
        var store: RecentTraceStore?
        if configuration.tracingEnabled {
            if let tracer {
                InstrumentationSystem.bootstrap(tracer)
            } else {
                let recent = RecentTraceStore(capacity: configuration.recentSpans)
                InstrumentationSystem.bootstrap(RecentTracesTracer(store: recent))
                store = recent
            }
        }
        return Telemetry(registry: registry, recentTraces: store, sampleInterval: configuration.sampleInterval)
    }
}

/// Log lines made inside a span carry `trace_id` and `span_id` (the OpenTelemetry log field
/// names), and the service whose work it is.
package enum TraceLogMetadata {
    package static let provider = Logger.MetadataProvider {
        guard let context = InstrumentationContext.current else { return [:] }
        var metadata: Logger.Metadata = [:]
        if let service = context.serviceName { metadata["service"] = .string(service) }
        if let trace = context.spanIdentity {
            metadata["trace_id"] = .string("\(trace.traceID)")
            metadata["span_id"] = .string("\(trace.spanID)")
        }
        return metadata
    }
}

/// OpenTelemetry metric names, as Prometheus spells them: dots become underscores and a
/// duration (recorded in seconds) gets the `_seconds` unit suffix, so
/// `http.server.request.duration` is scraped as `http_server_request_duration_seconds`.
package enum PrometheusNaming {
    /// Histogram buckets in seconds, from 0.25 ms: most calls inside one host are sub-millisecond.
    static let durationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    package static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        factory.nameAndLabelSanitizer = { name, labels in
            (metricName(name), labels.map { (labelName($0.0), $0.1) })
        }
        return factory
    }

    package static func metricName(_ name: String) -> String {
        let base = String(name.map { $0 == "." || $0 == "-" ? "_" : $0 })
        return name.hasSuffix(".duration") ? base + "_seconds" : base
    }

    static func labelName(_ name: String) -> String {
        String(name.map { $0 == "." || $0 == "-" ? "_" : $0 })
    }
}
