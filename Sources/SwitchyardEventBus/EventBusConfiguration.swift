package import Configuration
package import Logging
package import ServiceLifecycle
package import SwitchyardRuntime
import SwitchyardStorage

/// Where the processes of one deployment publish and consume events, under `bus.`.
package struct EventBusConfiguration: Sendable {
    /// `bus.path` (default `<data.directory>/events.sqlite`): the embedded log. Every process of
    /// a deployment on one host opens the same file.
    package var path: String
    /// `bus.retentionHours` (default 168): settled events older than this are deleted.
    package var retention: Duration

    package init(path: String, retention: Duration = .seconds(7 * 24 * 3600)) {
        self.path = path
        self.retention = retention
    }

    package init(reader: ConfigReader) throws {
        self.init(
            path: reader.string(forKey: "bus.path", default: DataDirectory(reader: reader).path(for: "events.sqlite")),
            retention: .seconds(try reader.positiveInt(forKey: "bus.retentionHours", default: 168) * 3600)
        )
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "bus.path", type: "string", defaultValue: "<data.directory>/events.sqlite", summary: "the embedded event log, shared by every process on the host"),
        .init(key: "bus.retentionHours", type: "int", defaultValue: "168", summary: "settled events older than this are deleted"),
    ]

    /// Opens the embedded bus and its retention sweep.
    package func open(logger: Logger) throws -> (bus: SQLiteEventBus, retention: any Service) {
        let database = try SQLiteDatabase.open(configuration: .init(path: path), migrations: SQLiteEventBus.migrations, logger: logger)
        let bus = SQLiteEventBus(database: database)
        return (bus, EventRetentionService(bus: bus, retention: retention, logger: logger))
    }
}

/// Deletes settled events past their retention, hourly.
struct EventRetentionService: Service {
    let bus: SQLiteEventBus
    let retention: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let deleted = try await bus.deleteSettledEvents(olderThan: retention)
                    if deleted > 0 { logger.info("deleted settled events past retention", metadata: ["switchyard.events.deleted": "\(deleted)"]) }
                } catch {
                    logger.warning("event retention sweep failed", metadata: ["switchyard.error": "\(error)"])
                }
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
