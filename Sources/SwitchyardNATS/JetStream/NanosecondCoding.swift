/// JetStream's JSON gives durations as integer nanoseconds.
extension KeyedEncodingContainer {
    mutating func encodeNanoseconds(_ duration: Duration?, forKey key: Key) throws {
        if let duration { try encode(duration.nanoseconds, forKey: key) }
    }

    mutating func encodeNanoseconds(_ durations: [Duration]?, forKey key: Key) throws {
        if let durations { try encode(durations.map(\.nanoseconds), forKey: key) }
    }
}

extension KeyedDecodingContainer {
    func decodeNanoseconds(forKey key: Key) throws -> Duration? {
        try decodeIfPresent(Int64.self, forKey: key).map { .nanoseconds($0) }
    }

    func decodeNanosecondsArray(forKey key: Key) throws -> [Duration]? {
        try decodeIfPresent([Int64].self, forKey: key).map { $0.map { .nanoseconds($0) } }
    }
}

/// A string-valued JetStream setting that tolerates values newer servers may add.
package protocol JetStreamPolicy: RawRepresentable, Codable, Hashable, Sendable where RawValue == String {
    init(rawValue: String)
}
