import Logging

/// Installs the process-wide log handler. Call it once, first thing in `main`: swift-log
/// allows one bootstrap per process. Tests never call it; they pass their own loggers.
package enum LoggingBootstrap {
    package static func bootstrap(_ configuration: LoggingConfiguration) {
        let level = configuration.level
        switch configuration.format {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
