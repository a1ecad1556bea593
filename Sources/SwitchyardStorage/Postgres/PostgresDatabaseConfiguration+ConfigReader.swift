package import Configuration
package import SwitchyardRuntime

extension PostgresDatabaseConfiguration {
    /// The PostgreSQL database `service` is configured with, or `nil` for its SQLite file.
    ///
    /// Keys: `<service>.database.url` (this service only), else `database.url` (every service);
    /// both secret (they may carry a password). `database.maxConnections` and
    /// `database.acquireTimeoutMilliseconds` tune every service's pool. The schema is the
    /// service's name.
    ///
    /// - Throws: `DatabaseURLConfigurationError` naming the key, never echoing the URL.
    package static func configured(reader: ConfigReader, service: String) throws -> PostgresDatabaseConfiguration? {
        let serviceKey = "\(service).database.url"
        let own = reader.string(forKey: ConfigKey(serviceKey), isSecret: true, default: "")
        let shared = reader.string(forKey: "database.url", isSecret: true, default: "")
        let (key, url) = own.isEmpty ? ("database.url", shared) : (serviceKey, own)
        guard !url.isEmpty else { return nil }
        let maxConnections = try reader.positiveInt(forKey: "database.maxConnections", default: 16)
        let acquireTimeout = try reader.positiveInt(forKey: "database.acquireTimeoutMilliseconds", default: 1000)
        do {
            return try PostgresDatabaseConfiguration(url: url, schema: service, maxConnections: maxConnections, acquireTimeout: .milliseconds(acquireTimeout))
        } catch {
            throw DatabaseURLConfigurationError(key: key, reason: error.reason)
        }
    }

    /// The keys every service shares.
    package static let sharedSettings: [ConfigurationSetting] = [
        .init(
            key: "database.url", type: "string", defaultValue: "(none: SQLite files)",
            summary: "postgres://user[:password]@host:port/database puts every service on PostgreSQL, each in a schema named after it (secret)",
            isSecret: true
        ),
        .init(key: "database.maxConnections", type: "int", defaultValue: "16", summary: "PostgreSQL connections each service process opens at most"),
        .init(
            key: "database.acquireTimeoutMilliseconds", type: "int", defaultValue: "1000",
            summary: "a call that gets no PostgreSQL connection within this fails as unavailable (503)"
        ),
    ]

    /// `<service>.database.url`, documented.
    package static func settings(service: String) -> ConfigurationSetting {
        .init(
            key: "\(service).database.url", type: "string", defaultValue: "database.url",
            summary: "PostgreSQL for \(service) alone, overriding database.url (secret)",
            isSecret: true
        )
    }
}

/// A database URL in the configuration that cannot be used. Names the key, never the value,
/// which may hold a password.
package struct DatabaseURLConfigurationError: Error, CustomStringConvertible {
    package var key: String
    package var reason: String
    package var description: String {
        "invalid value for \(key) (\(ConfigurationSetting.environmentVariableName(forKey: "switchyard.\(key)"))): \(reason)"
    }
}
