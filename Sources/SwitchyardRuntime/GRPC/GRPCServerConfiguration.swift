package import Configuration

/// Where a gRPC server listens and what it accepts. Read from a scope such as
/// `inventory.grpc`, so each service's keys are `<service>.grpc.<key>`.
package struct GRPCServerConfiguration: Sendable, Hashable {
    /// The address to bind. Loopback by default: nothing listens publicly unless asked to.
    package var host: String
    /// 0 binds a free port; read it back from the listening callback.
    package var port: Int
    /// The largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED.
    package var maxMessageBytes: Int
    /// The HTTP/2 implementation underneath.
    package var transport: GRPCServerTransportKind

    package static let defaultMaxMessageBytes = 4 * 1024 * 1024

    /// `switchyard`: about twice `grpc-nio`'s throughput side by side on GetStock;
    /// `grpc-nio` stays selectable with `<service>.grpc.transport=grpc-nio`.
    package static let defaultTransport = GRPCServerTransportKind.switchyard

    package init(
        host: String = "127.0.0.1",
        port: Int,
        maxMessageBytes: Int = defaultMaxMessageBytes,
        transport: GRPCServerTransportKind = defaultTransport
    ) {
        self.host = host
        self.port = port
        self.maxMessageBytes = maxMessageBytes
        self.transport = transport
    }

    /// Reads, relative to the reader's scope:
    /// - `host` (string, default `127.0.0.1`)
    /// - `port` (int, default `defaultPort`)
    /// - `maxMessageBytes` (int, default 4194304)
    /// - `transport` (string, default `defaultTransport`): see `GRPCServerTransportKind`.
    /// - Throws: `ConfigurationValueError` for a port outside 0...65535 or a size below 1 KiB.
    package init(reader: ConfigReader, defaultPort: Int) throws {
        let port = try reader.port(forKey: "port", default: defaultPort)
        let maxMessageBytes = reader.int(forKey: "maxMessageBytes", default: Self.defaultMaxMessageBytes)
        guard maxMessageBytes >= 1024 else {
            throw ConfigurationValueError(key: "maxMessageBytes", value: "\(maxMessageBytes)", expected: ["at least 1024"])
        }
        let transportName = reader.string(forKey: "transport", default: Self.defaultTransport.rawValue)
        guard let transport = GRPCServerTransportKind(rawValue: transportName) else {
            throw ConfigurationValueError(key: "transport", value: transportName, expected: GRPCServerTransportKind.allCases.map(\.rawValue))
        }
        self.init(host: reader.string(forKey: "host", default: "127.0.0.1"), port: port, maxMessageBytes: maxMessageBytes, transport: transport)
    }

    /// The documented keys under `prefix` (e.g. `inventory.grpc`).
    package static func settings(prefix: String, defaultPort: Int) -> [ConfigurationSetting] {
        let settings: [ConfigurationSetting] = [
            .init(key: "host", type: "string", defaultValue: "127.0.0.1", summary: "address the gRPC server binds"),
            .init(key: "port", type: "int", defaultValue: "\(defaultPort)", summary: "gRPC port; 0 picks a free one"),
            .init(key: "maxMessageBytes", type: "int", defaultValue: "\(defaultMaxMessageBytes)", summary: "largest request message; larger ones get RESOURCE_EXHAUSTED"),
            .init(key: "transport", type: "string", defaultValue: defaultTransport.rawValue, summary: "HTTP/2 implementation: \(GRPCServerTransportKind.allCases.map(\.rawValue).joined(separator: " or "))"),
        ]
        return settings.map { $0.scoped(to: prefix) }
    }
}
