import Configuration
import Logging
import OTel
import ServiceLifecycle
import SwitchyardGateway
import SwitchyardRuntime

/// What `dev` and `serve` set up before any service: configuration, logging, metrics and
/// tracing, the process-wide parts that swift-log, swift-metrics and swift-distributed-tracing
/// allow once per process.
struct ProcessSetup {
    var reader: ConfigReader
    var logger: Logger
    var telemetry: Telemetry
    /// Run first in the ServiceGroup and stopped last: the OTLP exporter, when configured, so
    /// the spans of the shutdown itself are still exported.
    var telemetryServices: [any Service]
}

enum ProcessTelemetry {
    /// Bootstraps metrics (Prometheus), tracing (in memory, or OTLP/HTTP through swift-otel)
    /// and logging with trace ids.
    ///
    /// - Parameters:
    ///   - reader: The process's configuration.
    ///   - serviceName: The OpenTelemetry `service.name` of the process (`switchyard-dev`,
    ///     `orders`, …); spans also say which service made them.
    static func bootstrap(reader: ConfigReader, serviceName: String) throws -> (Telemetry, [any Service], Logger.MetadataProvider) {
        let configuration = try TelemetryConfiguration(reader: reader)
        guard configuration.tracingEnabled, let endpoint = configuration.otlpEndpoint else {
            return (TelemetryBootstrap.bootstrap(configuration), [], TraceLogMetadata.provider)
        }
        var otel = OTel.Configuration.default
        otel.serviceName = serviceName
        otel.metrics.enabled = false
        otel.logs.enabled = false
        otel.traces.enabled = true
        otel.traces.sampler = .alwaysOn
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.protocol = .httpProtobuf
        otel.traces.otlpExporter.endpoint = tracesEndpoint(endpoint)
        otel.traces.batchSpanProcessor.scheduleDelay = .milliseconds(500)
        let backend = try OTel.makeTracingBackend(configuration: otel)
        let telemetry = TelemetryBootstrap.bootstrap(configuration, tracer: backend.factory)
        let provider = Logger.MetadataProvider.multiplex([TraceLogMetadata.provider, OTel.makeLoggingMetadataProvider()]) ?? TraceLogMetadata.provider
        return (telemetry, [backend.service], provider)
    }

    /// The collector's base URL as configured (`http://host:4318`) plus the traces path: an
    /// endpoint set explicitly is used as is by swift-otel, per the OTLP exporter spec.
    static func tracesEndpoint(_ base: String) -> String {
        if base.hasSuffix("/v1/traces") { return base }
        return base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
    }
}

extension ProcessSetup {
    /// The exporter (if any) and the listener of `/metrics` and `/debug/traces` for a service
    /// without an HTTP listener of its own; it prints where it listens.
    func servingTelemetry(reader: ConfigReader, service: String) throws -> [any Service] {
        let configuration = try TelemetryConfiguration(reader: reader)
        return telemetryServices
            + makeTelemetryHTTPServices(host: configuration.httpHost, port: configuration.httpPort, telemetry: telemetry, logger: logger) { address in
                Console.announce("\(service) telemetry listening on \(address) (/metrics, /debug/traces)")
            }
    }
}
