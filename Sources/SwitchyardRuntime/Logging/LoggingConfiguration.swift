package import Configuration
package import Logging

/// How a process logs: a readable line per event by default, one JSON object per line
/// (`--log-format json`) for log shippers.
package struct LoggingConfiguration: Sendable, Hashable {
    package enum Format: String, Sendable, CaseIterable {
        case text
        case json
    }

    package var level: Logger.Level
    package var format: Format

    package init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }

    /// Reads:
    /// - `log.level` (string, default `info`): trace, debug, info, notice, warning, error, critical.
    /// - `log.format` (string, default `text`): `text` or `json`.
    /// - Throws: `ConfigurationValueError` for a value outside those lists.
    package init(reader: ConfigReader) throws {
        let levelText = reader.string(forKey: "log.level", default: "info")
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationValueError(key: "log.level", value: levelText, expected: Logger.Level.allCases.map(\.rawValue))
        }
        let formatText = reader.string(forKey: "log.format", default: "text")
        guard let format = Format(rawValue: formatText.lowercased()) else {
            throw ConfigurationValueError(key: "log.format", value: formatText, expected: Format.allCases.map(\.rawValue))
        }
        self.init(level: level, format: format)
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "log.level", type: "string", defaultValue: "info", summary: "trace, debug, info, notice, warning, error or critical"),
        .init(key: "log.format", type: "string", defaultValue: "text", summary: "text (readable) or json (one object per line)"),
    ]
}

/// A configuration value outside its allowed set; names the key and what it accepts.
package struct ConfigurationValueError: Error, CustomStringConvertible {
    package var key: String
    package var value: String
    package var expected: [String]

    package init(key: String, value: String, expected: [String]) {
        self.key = key
        self.value = value
        self.expected = expected
    }

    package var description: String {
        "invalid value '\(value)' for \(key) (\(ConfigurationSetting.environmentVariableName(forKey: "switchyard.\(key)"))): expected \(expected.joined(separator: ", "))"
    }
}
