import Foundation
package import Logging

/// Writes one JSON object per line to standard error: `ts` (RFC 3339, milliseconds, UTC),
/// `level`, `logger`, `message`, then the metadata keys. Values are strings, so the schema
/// stays flat and predictable for log shippers.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: The logger's label, written as `logger`.
    ///   - write: Where each finished line goes; standard error by default.
    package init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write ?? { line in FileHandle.standardError.write(Data(line.utf8)) }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }

        var line = "{\"ts\":\"\(Self.timestamp())\",\"level\":\"\(event.level.rawValue)\",\"logger\":"
        JSONText.appendQuoted(label, to: &line)
        line += ",\"message\":"
        JSONText.appendQuoted(event.message.description, to: &line)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !Self.reserved.contains(key) {
            line += ","
            JSONText.appendQuoted(key, to: &line)
            line += ":"
            JSONText.appendQuoted(value.description, to: &line)
        }
        line += "}\n"
        write(line)
    }

    private static let reserved: Set<String> = ["ts", "level", "logger", "message"]

    private static func timestamp() -> String {
        Date.now.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
