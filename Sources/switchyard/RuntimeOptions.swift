import ArgumentParser
import Configuration
import Logging
import SwitchyardRuntime

/// Options every long-running subcommand accepts. Each one maps onto a configuration key, so
/// the command line simply sits on top of environment variables and the config file.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "A JSON config file (also SWITCHYARD_CONFIG_FILE).")
    var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (log.level).")
    var logLevel: String?

    @Option(help: "text or json (log.format).")
    var logFormat: String?

    @Option(help: "Directory for service databases (data.directory).")
    var dataDirectory: String?

    @Option(help: "The event bus: nats://host:port[,nats://host:port…] runs it on NATS JetStream (bus.url); the embedded log when absent.")
    var bus: String?

    @Option(help: "An OTLP/HTTP collector (http://host:4318) to export spans to, instead of keeping them in memory (tracing.otlpEndpoint).")
    var otlpEndpoint: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Any configuration key, e.g. --set inventory.grpc.port=0. Repeatable.", valueName: "key=value"))
    var settings: [String] = []

    /// The command-line layer of the configuration, by dotted key.
    func commandLineValues(adding specific: [String: String?] = [:]) throws -> [String: String] {
        var values: [String: String] = [:]
        for setting in settings {
            guard let separator = setting.firstIndex(of: "="), separator != setting.startIndex else {
                throw ValidationError("--set expects key=value, got '\(setting)'")
            }
            values[String(setting[..<separator])] = String(setting[setting.index(after: separator)...])
        }
        let named: [String: String?] = ["log.level": logLevel, "log.format": logFormat, "data.directory": dataDirectory, "bus.url": bus, "tracing.otlpEndpoint": otlpEndpoint]
        for (key, value) in named.merging(specific, uniquingKeysWith: { _, new in new }) {
            if let value { values[key] = value }
        }
        return values
    }

    /// Reads the configuration, installs telemetry and logging, and returns what the process's
    /// services need of them.
    ///
    /// - Parameters:
    ///   - specific: The subcommand's own options, by configuration key.
    ///   - label: The process logger's label.
    ///   - serviceName: The process's OpenTelemetry `service.name`.
    func bootstrap(adding specific: [String: String?] = [:], label: String, serviceName: String) async throws -> ProcessSetup {
        let reader = try await SwitchyardConfigReader.make(commandLine: commandLineValues(adding: specific), configFile: config)
        let logging = try LoggingConfiguration(reader: reader)
        let (telemetry, services, metadataProvider) = try ProcessTelemetry.bootstrap(reader: reader, serviceName: serviceName)
        LoggingBootstrap.bootstrap(logging, metadataProvider: metadataProvider)
        return ProcessSetup(reader: reader, logger: Logger(label: label), telemetry: telemetry, telemetryServices: services)
    }
}
