package import Configuration
package import SwitchyardRuntime

extension ConsumerOptions {
    /// A consumer group's delivery policy, under `bus.groups.<group>.`: `maxAttempts`
    /// (default 5) before an event is dead-lettered, `initialBackoffMilliseconds` (100, doubling
    /// with jitter up to `maxBackoffMilliseconds`, 10000), `ackTimeoutSeconds` (30) before an
    /// unacknowledged delivery goes to another instance, and `batchSize` (128).
    /// - Throws: `ConfigurationValueError` naming a value that is not a positive integer.
    package init(reader: ConfigReader, group: String) throws {
        let prefix = Self.keyPrefix(group: group)
        let defaults = ConsumerOptions()
        self.init(
            maxAttempts: try reader.positiveInt(forKey: prefix + "maxAttempts", default: defaults.maxAttempts),
            initialBackoff: .milliseconds(try reader.positiveInt(forKey: prefix + "initialBackoffMilliseconds", default: 100)),
            maxBackoff: .milliseconds(try reader.positiveInt(forKey: prefix + "maxBackoffMilliseconds", default: 10_000)),
            ackTimeout: .seconds(try reader.positiveInt(forKey: prefix + "ackTimeoutSeconds", default: 30)),
            batchSize: try reader.positiveInt(forKey: prefix + "batchSize", default: defaults.batchSize)
        )
    }

    /// The documented keys of `group`'s policy.
    package static func settings(group: String) -> [ConfigurationSetting] {
        let prefix = keyPrefix(group: group)
        return [
            .init(key: prefix + "maxAttempts", type: "int", defaultValue: "5", summary: "deliveries to group \(group) before an event is dead-lettered"),
            .init(key: prefix + "initialBackoffMilliseconds", type: "int", defaultValue: "100", summary: "wait before its first retry; doubles, with jitter"),
            .init(key: prefix + "maxBackoffMilliseconds", type: "int", defaultValue: "10000", summary: "longest wait between its retries"),
            .init(key: prefix + "ackTimeoutSeconds", type: "int", defaultValue: "30", summary: "an unacknowledged delivery is given to another instance after this"),
            .init(key: prefix + "batchSize", type: "int", defaultValue: "128", summary: "events one instance claims at once"),
        ]
    }

    private static func keyPrefix(group: String) -> String { "bus.groups.\(group)." }
}
