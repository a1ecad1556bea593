package import Logging

/// Installs the process-wide log handler. Call it once, first thing in `main`: swift-log
/// allows one bootstrap per process. Tests never call it; they pass their own loggers.
package enum LoggingBootstrap {
    /// - Parameters:
    ///   - configuration: Level and format.
    ///   - metadataProvider: Adds the current trace (`trace_id`, `span_id`) and service to
    ///     every line; `TraceLogMetadata.provider` by default.
    package static func bootstrap(_ configuration: LoggingConfiguration, metadataProvider: Logger.MetadataProvider = TraceLogMetadata.provider) {
        let level = configuration.level
        switch configuration.format {
        case .text:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = DeferredMetadataLogHandler(StreamLogHandler.standardError(label: label, metadataProvider: nil), metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                },
                metadataProvider: metadataProvider
            )
        case .json:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = JSONLogHandler(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                },
                metadataProvider: metadataProvider
            )
        }
    }
}
