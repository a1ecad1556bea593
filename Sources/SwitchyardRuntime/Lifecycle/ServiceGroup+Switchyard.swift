package import Logging
package import ServiceLifecycle
import UnixSignals

extension ServiceGroup {
    /// The one ServiceGroup of a Switchyard process: `services` in dependency order (each may
    /// rely on those before it), graceful shutdown on SIGINT or SIGTERM, and a bound on how long
    /// draining may take before the stragglers are cancelled.
    ///
    /// - Parameters:
    ///   - services: Started in order, shut down in reverse.
    ///   - gracePeriod: How long graceful shutdown may take before cancellation.
    ///   - logger: The group's lifecycle lines.
    package static func switchyard(
        services: [any Service],
        gracePeriod: Duration = .seconds(15),
        logger: Logger
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = gracePeriod
        configuration.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: configuration)
    }
}
