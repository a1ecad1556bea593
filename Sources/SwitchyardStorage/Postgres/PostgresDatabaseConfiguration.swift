import Foundation
import PostgresNIO

/// Where a service's PostgreSQL database is and how the pool in front of it behaves.
///
/// A service keeps its tables in its own schema (`orders`, `inventory`, `fulfillment`), so one
/// URL can serve a whole deployment (`switchyard dev --database postgres://…`) while each
/// service still owns its data: nothing but the service itself reads or writes its schema. A
/// per-service URL (`orders.database.url`) moves one service to a database or server of its own
/// without changing anything else.
package struct PostgresDatabaseConfiguration: Sendable, Hashable {
    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String?
    /// The schema the service's tables live in; created by the first migration run.
    package var schema: String
    /// The most connections one process opens to the server.
    package var maxConnections: Int
    /// How long a call waits for a pooled connection before it fails as unavailable. Without it
    /// a call made while the server is down would wait for the pool's own circuit breaker
    /// (60 s), well past any request's deadline, and the caller would see a timeout instead of
    /// "the database is unavailable".
    package var acquireTimeout: Duration
    /// The longest one call (lease, statements, commit) may take before it fails as
    /// unavailable. A postgres-nio call on a connection the server cut can fail to return at
    /// all; without a bound, the relay or consumer that made it would wait for good.
    package var callTimeout: Duration = .seconds(30)

    package init(
        host: String = "127.0.0.1",
        port: Int = 5432,
        username: String = "postgres",
        password: String? = nil,
        database: String? = nil,
        schema: String,
        maxConnections: Int = 16,
        acquireTimeout: Duration = .seconds(1)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.schema = schema
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
    }

    /// Parses `postgres://user[:password]@host[:port][/database]` (also `postgresql://`).
    ///
    /// - Parameters:
    ///   - url: The URL as configured.
    ///   - schema: The schema the service keeps its tables in.
    /// - Throws: `PostgresURLError` naming what is wrong (never echoing the password).
    package init(url: String, schema: String, maxConnections: Int = 16, acquireTimeout: Duration = .seconds(1)) throws(PostgresURLError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw PostgresURLError(reason: "expected postgres://user@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError(reason: "the URL names no host") }
        guard Self.isValidIdentifier(schema) else { throw PostgresURLError(reason: "schema '\(schema)' is not a plain lower-case identifier") }
        var sslMode = "disable"
        for item in components.queryItems ?? [] where item.name == "sslmode" {
            sslMode = item.value ?? ""
        }
        guard ["disable", "allow", "prefer"].contains(sslMode) else {
            throw PostgresURLError(reason: "sslmode=\(sslMode) is not supported yet: connections are plaintext (use a private network or a local proxy)")
        }
        let database = components.path.split(separator: "/").first.map(String.init)
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: components.user?.removingPercentEncoding ?? components.user ?? "postgres",
            password: components.password?.removingPercentEncoding ?? components.password,
            database: database,
            schema: schema,
            maxConnections: maxConnections,
            acquireTimeout: acquireTimeout
        )
    }

    /// `host:port/database`: where it connects, without credentials, for logs and errors.
    package var redactedDescription: String { "\(host):\(port)/\(database ?? username) schema \(schema)" }

    /// The postgres-nio client configuration: every connection starts with the service's
    /// schema on its search path, so the SQL names tables unqualified.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.maximumConnections = maxConnections
        configuration.options.additionalStartupParameters = [("search_path", schema), ("application_name", "switchyard")]
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// Lower-case letters, digits and underscores, not starting with a digit: safe to splice
    /// into DDL (`CREATE SCHEMA`), where parameters cannot go.
    static func isValidIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !(("0"..."9").contains(first)), name.utf8.count <= 63 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// A database URL that cannot be used.
package struct PostgresURLError: Error, CustomStringConvertible {
    package var reason: String
    package var description: String { "invalid PostgreSQL URL: \(reason)" }
}
