import Foundation
package import Configuration
import SystemPackage

/// Builds the one `ConfigReader` a process reads all its settings from. Precedence, highest
/// first: the command line (`--port`, `--set key=value`), `SWITCHYARD_*` environment
/// variables, the JSON config file (`--config` or `SWITCHYARD_CONFIG_FILE`), then each
/// configuration struct's defaults.
package enum SwitchyardConfigReader {
    /// Every environment variable Switchyard reads starts with this.
    package static let environmentPrefix = "switchyard"

    /// The environment variable naming the JSON config file when `--config` is absent.
    package static let configFileEnvironmentVariable = "SWITCHYARD_CONFIG_FILE"

    /// - Parameters:
    ///   - commandLine: Values given on the command line, by dotted key, as the user typed them.
    ///   - configFile: A JSON file whose nested objects follow the dotted keys; `nil` falls back
    ///     to `SWITCHYARD_CONFIG_FILE`, then to no file.
    ///   - environment: The process environment (injectable for tests).
    /// - Throws: When the config file is named but missing or not valid JSON.
    package static func make(
        commandLine: [String: String] = [:],
        configFile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ConfigReader {
        // The command line goes through the same string parsing as the environment, so
        // `--set inventory.grpc.port=0` and `SWITCHYARD_INVENTORY_GRPC_PORT=0` mean the same.
        let commandLineAsVariables = Dictionary(
            commandLine.map { key, value in (ConfigurationSetting.environmentVariableName(forKey: key), value) },
            uniquingKeysWith: { _, last in last }
        )
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: commandLineAsVariables),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ConfigKey(environmentPrefix)),
        ]
        if let path = configFile ?? environment[configFileEnvironmentVariable], !path.isEmpty {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(path)))
        }
        return ConfigReader(providers: providers)
    }
}
