/// One documented configuration key. Every configuration struct lists its keys as settings,
/// so `switchyard config` and the README's table come from the same place as the code that
/// reads them.
package struct ConfigurationSetting: Sendable, Hashable {
    /// The dotted key, e.g. `inventory.grpc.port`; JSON config files nest by its components.
    package var key: String
    /// The type as written in the docs: `string`, `int`, `bool`, `double`.
    package var type: String
    /// The default, as a user would write it.
    package var defaultValue: String
    package var summary: String
    /// The value may hold a credential (a database URL with a password): `switchyard config`
    /// does not print it, and readers read it with `isSecret`.
    package var isSecret: Bool

    package init(key: String, type: String, defaultValue: String, summary: String, isSecret: Bool = false) {
        self.key = key
        self.type = type
        self.defaultValue = defaultValue
        self.summary = summary
        self.isSecret = isSecret
    }

    /// The environment variable that sets this key: `SWITCHYARD_` plus the key with dots and
    /// camel-case humps turned into underscores (`inventory.grpc.maxMessageBytes` →
    /// `SWITCHYARD_INVENTORY_GRPC_MAX_MESSAGE_BYTES`).
    package var environmentVariable: String {
        ConfigurationSetting.environmentVariableName(forKey: "\(SwitchyardConfigReader.environmentPrefix).\(key)")
    }

    /// The name swift-configuration's `EnvironmentVariablesProvider` looks up for `key`.
    package static func environmentVariableName(forKey key: String) -> String {
        var name = ""
        var previous: Character?
        for character in key {
            if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
                name.append("_")
            }
            name.append(character.isLetter || character.isNumber ? Character(character.uppercased()) : "_")
            previous = character
        }
        return name
    }

    /// This key relative to a scope, e.g. `port` inside `inventory.grpc`.
    package func scoped(to prefix: String) -> ConfigurationSetting {
        var copy = self
        copy.key = prefix.isEmpty ? key : "\(prefix).\(key)"
        return copy
    }
}
