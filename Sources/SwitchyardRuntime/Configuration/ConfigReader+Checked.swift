package import Configuration

extension ConfigReader {
    /// An integer that must be at least 1.
    /// - Throws: `ConfigurationValueError` naming the key.
    package func positiveInt(forKey key: String, default defaultValue: Int) throws -> Int {
        let value = int(forKey: ConfigKey(key), default: defaultValue)
        guard value > 0 else { throw ConfigurationValueError(key: key, value: "\(value)", expected: ["at least 1"]) }
        return value
    }

    /// A TCP port, 0 (any free port) to 65535.
    /// - Throws: `ConfigurationValueError` naming the key.
    package func port(forKey key: String, default defaultValue: Int) throws -> Int {
        let value = int(forKey: ConfigKey(key), default: defaultValue)
        guard (0...65535).contains(value) else { throw ConfigurationValueError(key: key, value: "\(value)", expected: ["0...65535"]) }
        return value
    }
}
