import ArgumentParser
import Configuration
import SwitchyardEventBus
import SwitchyardFulfillment
import SwitchyardGateway
import SwitchyardInventory
import SwitchyardOrders
import SwitchyardRuntime
import SwitchyardStorage

/// `switchyard config`: every configuration key with its environment variable, default and
/// the value this environment gives it.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "List every configuration key, its environment variable, default and current value."
    )

    @OptionGroup var options: RuntimeOptions

    @Flag(help: "Print the README's Markdown table of keys instead of current values.")
    var markdown = false

    static let allSettings: [ConfigurationSetting] =
        LoggingConfiguration.settings + TelemetryConfiguration.settings + DataDirectory.settings + PostgresDatabaseConfiguration.sharedSettings + EventBusConfiguration.settings + GatewayConfiguration.settings
        + OrdersConfiguration.settings + InventoryConfiguration.settings + FulfillmentConfiguration.settings

    func run() async throws {
        if markdown {
            Console.announce("| Key | Environment variable | Default | Meaning |\n|---|---|---|---|")
            for setting in Self.allSettings {
                Console.announce("| `\(setting.key)` | `\(setting.environmentVariable)` | \(setting.defaultValue) | \(setting.summary) |")
            }
            return
        }
        let reader = try await SwitchyardConfigReader.make(commandLine: options.commandLineValues(), configFile: options.config)
        for setting in Self.allSettings {
            let value = reader.string(forKey: ConfigKey(setting.key), isSecret: setting.isSecret)
            let current = value.map { setting.isSecret ? "(set, secret)" : $0 } ?? "(default)"
            Console.announce("\(setting.key)  \(setting.environmentVariable)  [\(setting.type), default \(setting.defaultValue)]  = \(current)\n    \(setting.summary)")
        }
    }
}
