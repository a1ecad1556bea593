package import Configuration

/// How a process traces and exposes metrics.
package struct TelemetryConfiguration: Sendable, Hashable {
    /// Spans are made at all; off, every span is a no-op (the measured cost of tracing is the
    /// difference).
    package var tracingEnabled: Bool
    /// An OTLP/HTTP collector (`http://host:4318`): spans go there through swift-otel instead
    /// of into the process's memory.
    package var otlpEndpoint: String?
    /// Finished spans kept in memory for `switchyard trace` when there is no collector.
    package var recentSpans: Int
    /// Where `serve orders|inventory|fulfillment` answers `/metrics` and `/debug/traces/…`
    /// (the gateway answers them on its own listener).
    package var httpHost: String
    package var httpPort: Int
    /// How often gauges that need a query (consumer lag, outbox backlog, dead letters,
    /// outstanding reservations) are sampled.
    package var sampleInterval: Duration

    package init(
        tracingEnabled: Bool = true,
        otlpEndpoint: String? = nil,
        recentSpans: Int = 20_000,
        httpHost: String = "127.0.0.1",
        httpPort: Int = 0,
        sampleInterval: Duration = .seconds(5)
    ) {
        self.tracingEnabled = tracingEnabled
        self.otlpEndpoint = otlpEndpoint
        self.recentSpans = recentSpans
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.sampleInterval = sampleInterval
    }

    /// Reads the keys listed in `settings`.
    /// - Throws: `ConfigurationValueError` for a value out of range.
    package init(reader: ConfigReader) throws {
        let endpoint = reader.string(forKey: "tracing.otlpEndpoint")
        if let endpoint, !endpoint.isEmpty, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw ConfigurationValueError(key: "tracing.otlpEndpoint", value: endpoint, expected: ["an http:// or https:// URL of an OTLP/HTTP collector"])
        }
        self.init(
            tracingEnabled: reader.bool(forKey: "tracing.enabled", default: true),
            otlpEndpoint: endpoint.flatMap { $0.isEmpty ? nil : $0 },
            recentSpans: try reader.positiveInt(forKey: "tracing.recentSpans", default: 20_000),
            httpHost: reader.string(forKey: "telemetry.http.host", default: "127.0.0.1"),
            httpPort: try reader.port(forKey: "telemetry.http.port", default: 0),
            sampleInterval: .milliseconds(try reader.positiveInt(forKey: "metrics.sampleIntervalMilliseconds", default: 5000))
        )
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "tracing.enabled", type: "bool", defaultValue: "true", summary: "make spans (100% sampled); false turns tracing off"),
        .init(key: "tracing.otlpEndpoint", type: "string", defaultValue: "(none: spans kept in memory)", summary: "an OTLP/HTTP collector, e.g. http://127.0.0.1:4318, to export spans to (`--otlp-endpoint`)"),
        .init(key: "tracing.recentSpans", type: "int", defaultValue: "20000", summary: "finished spans kept in memory for `switchyard trace` when there is no collector"),
        .init(key: "telemetry.http.host", type: "string", defaultValue: "127.0.0.1", summary: "address of `/metrics` and `/debug/traces` for `serve orders|inventory|fulfillment` (the gateway serves both on its listener)"),
        .init(key: "telemetry.http.port", type: "int", defaultValue: "0", summary: "their port; 0 picks a free one and prints it"),
        .init(key: "metrics.sampleIntervalMilliseconds", type: "int", defaultValue: "5000", summary: "how often consumer lag, outbox backlog, dead letters and outstanding reservations are sampled"),
    ]
}
