package import Logging
import Metrics
import ServiceLifecycle

/// A gauge whose value takes a query to know (consumer lag, outbox backlog, outstanding
/// reservations): `GaugeSamplingService` reads it every interval and records it.
package struct GaugeProbe: Sendable {
    package var label: String
    package var dimensions: [(String, String)]
    package var read: @Sendable () async throws -> Int

    package init(label: String, dimensions: [(String, String)], read: @escaping @Sendable () async throws -> Int) {
        self.label = label
        self.dimensions = dimensions
        self.read = read
    }
}

/// Samples a service's `GaugeProbe`s every `interval` until shutdown. A probe that fails (its
/// database or broker is away) keeps its last value and is logged at debug: a scrape should
/// not go blank because one query failed once.
package struct GaugeSamplingService: Service {
    private let probes: [GaugeProbe]
    private let interval: Duration
    private let logger: Logger

    package init(probes: [GaugeProbe], interval: Duration, logger: Logger) {
        self.probes = probes
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        let gauges = probes.map { Gauge(label: $0.label, dimensions: $0.dimensions) }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sampleOnce(into: gauges)
                try await Task.sleep(for: interval)
            }
        }
    }

    private func sampleOnce(into gauges: [Gauge]) async {
        for (probe, gauge) in zip(probes, gauges) {
            do {
                gauge.record(try await probe.read())
            } catch {
                logger.debug("could not sample a gauge", metadata: ["switchyard.metric": "\(probe.label)", "switchyard.error": "\(error)"])
            }
        }
    }
}
