/// A server to connect to: host and port from "nats://host:port", "host:port" or "host".
package struct NATSServerAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package init(parsing text: String) throws(NATSError) {
        var rest = Substring(text.trimmingCharacters(in: " \t"))
        for scheme in ["nats://", "tcp://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        // Credentials in the URL are not supported; the userinfo part is dropped.
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        var host = rest
        var port = 4222
        if rest.hasPrefix("[") {
            // IPv6 literal: [::1]:4222
            guard let close = rest.firstIndex(of: "]") else { throw NATSError.invalidServerURL(text) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()) else { throw NATSError.invalidServerURL(text) }
                port = parsed
            } else if !after.isEmpty {
                throw NATSError.invalidServerURL(text)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let parsed = Int(rest[rest.index(after: colon)...]) else { throw NATSError.invalidServerURL(text) }
            port = parsed
        }
        guard !host.isEmpty, (1...65535).contains(port) else { throw NATSError.invalidServerURL(text) }
        self.host = String(host)
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
