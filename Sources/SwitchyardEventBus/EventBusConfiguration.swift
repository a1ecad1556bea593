import Foundation
package import Configuration
package import Logging
package import ServiceLifecycle
import SwitchyardNATS
package import SwitchyardRuntime
import SwitchyardStorage

/// Where the processes of one deployment publish and consume events, under `bus.`: the
/// embedded SQLite log (the default), or a NATS JetStream server or cluster (`bus.url`).
package struct EventBusConfiguration: Sendable {
    /// `bus.path` (default `<data.directory>/events.sqlite`): the embedded log. Every process of
    /// a deployment on one host opens the same file.
    package var path: String
    /// `bus.retentionHours` (default 168): settled events older than this are deleted (the
    /// embedded log), or events older than this expire (JetStream's MaxAge).
    package var retention: Duration
    /// `bus.url`: `nats://host:port[,nats://host:port…]` selects the JetStream engine; empty
    /// (the default) the embedded log.
    package var natsServers: [String]
    /// The JetStream engine's layout and stream settings (`bus.nats.*`).
    package var jetStream: JetStreamEventBus.Settings

    package init(path: String, retention: Duration = .seconds(7 * 24 * 3600), natsServers: [String] = [], jetStream: JetStreamEventBus.Settings = .init()) {
        self.path = path
        self.retention = retention
        self.natsServers = natsServers
        self.jetStream = jetStream
        self.jetStream.retention = retention
    }

    package init(reader: ConfigReader) throws {
        let retention = Duration.seconds(try reader.positiveInt(forKey: "bus.retentionHours", default: 168) * 3600)
        let url = reader.string(forKey: "bus.url", default: "")
        let servers = try Self.natsServers(parsing: url)
        self.init(
            path: reader.string(forKey: "bus.path", default: DataDirectory(reader: reader).path(for: "events.sqlite")),
            retention: retention,
            natsServers: servers,
            jetStream: .init(
                layout: JetStreamLayout(
                    namespace: reader.string(forKey: "bus.nats.namespace", default: ""),
                    partitions: try reader.positiveInt(forKey: "bus.nats.partitions", default: 16)
                ),
                replicas: try reader.positiveInt(forKey: "bus.nats.replicas", default: 1),
                retention: retention,
                duplicateWindow: .seconds(try reader.positiveInt(forKey: "bus.nats.duplicateWindowSeconds", default: 600))
            )
        )
    }

    /// `nats://a:4222,nats://b:4222` → its URLs; anything else is a configuration error
    /// naming the key.
    static func natsServers(parsing text: String) throws -> [String] {
        let urls = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for url in urls where !url.hasPrefix("nats://") {
            throw ConfigurationValueError(key: "bus.url", value: url, expected: ["nats://host:port[,nats://host:port…]"])
        }
        return urls
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "bus.url", type: "string", defaultValue: "(none: the embedded log)", summary: "nats://host:port[,…] runs the bus on NATS JetStream; empty: the embedded log"),
        .init(key: "bus.path", type: "string", defaultValue: "<data.directory>/events.sqlite", summary: "the embedded event log, shared by every process on the host"),
        .init(key: "bus.retentionHours", type: "int", defaultValue: "168", summary: "settled events older than this are deleted (JetStream: the streams' max age)"),
        .init(key: "bus.nats.namespace", type: "string", defaultValue: "(none)", summary: "prefix of every subject and stream, to share a NATS server between deployments"),
        .init(key: "bus.nats.partitions", type: "int", defaultValue: "16", summary: "partitions per topic (order per subject holds within one); fixed once events flow"),
        .init(key: "bus.nats.replicas", type: "int", defaultValue: "1", summary: "copies of each stream in a JetStream cluster (3 for a 3-node cluster)"),
        .init(key: "bus.nats.duplicateWindowSeconds", type: "int", defaultValue: "600", summary: "how long JetStream drops a second copy of an event id"),
    ]

    /// Opens the embedded bus and its retention sweep (whatever `bus.url` says): for tools and
    /// tests that want the SQLite engine itself.
    package func openEmbedded(logger: Logger) throws -> (bus: SQLiteEventBus, retention: any Service) {
        let database = try SQLiteDatabase.open(configuration: .init(path: path), migrations: SQLiteEventBus.migrations, logger: logger)
        let bus = SQLiteEventBus(database: database)
        return (bus, EventRetentionService(bus: bus, retention: retention, logger: logger))
    }

    /// Opens the configured bus, and the services that keep it: the embedded log's retention
    /// sweep, or the NATS connection (closed at shutdown, after everything that uses it;
    /// put these services first in the group).
    package func open(logger: Logger) async throws -> (bus: any EventBus, services: [any Service]) {
        guard !natsServers.isEmpty else {
            let (bus, retention) = try openEmbedded(logger: logger)
            return (bus, [retention])
        }
        let client = try await NATSClient.connect(servers: natsServers, logger: logger)
        let bus = JetStreamEventBus(client: client, settings: jetStream, logger: logger)
        return (bus, [NATSConnectionService(client: client)])
    }
}

/// Keeps a NATS connection for the life of the process and closes it at shutdown.
struct NATSConnectionService: Service {
    let client: NATSClient

    func run() async throws {
        try? await gracefulShutdown()
        await client.close()
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
