import ArgumentParser

/// `--database` on `serve`: a PostgreSQL URL selects PostgreSQL (`<service>.database.url`),
/// anything else is the SQLite file (`<service>.database.path`), as before.
enum DatabaseOption {
    static func isURL(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    static func url(_ value: String?) -> String? {
        value.flatMap { isURL($0) ? $0 : nil }
    }

    static func path(_ value: String?) -> String? {
        value.flatMap { isURL($0) ? nil : $0 }
    }
}

/// `--orders` / `--inventory` on `serve`: one `host:port` (the `<scope>.host` and `.port`
/// keys), or replicas to balance over, `host:port,host:port…` or `dns:host:port`
/// (`<scope>.addresses`).
enum DownstreamOption {
    static func values(_ text: String?, scope: String) throws -> [String: String?] {
        guard let text else { return [:] }
        if text.contains(",") || text.hasPrefix("dns:") {
            return ["\(scope).addresses": text]
        }
        let address = try HostAndPort(parsing: text)
        return ["\(scope).host": address.host, "\(scope).port": String(address.port)]
    }
}
