package import Configuration
package import SwitchyardEventBus
package import SwitchyardRuntime
package import SwitchyardStorage

/// Everything fulfillment reads, under `fulfillment.` (plus the shared `data.directory`).
package struct FulfillmentConfiguration: Sendable {
    /// `fulfillment.database.path` (default `<data.directory>/fulfillment.sqlite`).
    package var databasePath: String
    /// `fulfillment.database.url`, else `database.url`: PostgreSQL instead of the SQLite file.
    package var postgres: PostgresDatabaseConfiguration?
    /// `fulfillment.consumers` (default 1): instances of consumer group `fulfillment` in this
    /// process; more share the work.
    package var consumers: Int
    /// `bus.groups.fulfillment.*`: the group's retries, dead-lettering and leases.
    package var consumerOptions: ConsumerOptions

    package init(databasePath: String, consumers: Int = 1, consumerOptions: ConsumerOptions = ConsumerOptions(), postgres: PostgresDatabaseConfiguration? = nil) {
        self.databasePath = databasePath
        self.postgres = postgres
        self.consumers = max(1, consumers)
        self.consumerOptions = consumerOptions
    }

    package init(reader: ConfigReader) throws {
        self.init(
            databasePath: reader.string(forKey: "fulfillment.database.path", default: DataDirectory(reader: reader).path(for: "fulfillment.sqlite")),
            consumers: try reader.positiveInt(forKey: "fulfillment.consumers", default: 1),
            consumerOptions: try ConsumerOptions(reader: reader, group: FulfillmentOrderPlacedHandler.group),
            postgres: try PostgresDatabaseConfiguration.configured(reader: reader, service: "fulfillment")
        )
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "fulfillment.database.path", type: "string", defaultValue: "<data.directory>/fulfillment.sqlite", summary: "fulfillment's SQLite file (shipments, inbox, outbox)"),
        PostgresDatabaseConfiguration.settings(service: "fulfillment"),
        .init(key: "fulfillment.consumers", type: "int", defaultValue: "1", summary: "instances of consumer group fulfillment in this process"),
    ] + ConsumerOptions.settings(group: FulfillmentOrderPlacedHandler.group)
}
