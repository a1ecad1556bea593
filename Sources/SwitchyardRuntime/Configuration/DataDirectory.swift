package import Configuration

/// `data.directory` (default `.switchyard` in the working directory): where services keep
/// their databases unless a service's own `*.database.path` says otherwise.
package struct DataDirectory: Sendable, Hashable {
    package var path: String

    package init(path: String) {
        self.path = path
    }

    package init(reader: ConfigReader) {
        self.init(path: reader.string(forKey: "data.directory", default: ".switchyard"))
    }

    /// A file inside the directory.
    package func path(for fileName: String) -> String {
        path.hasSuffix("/") ? path + fileName : "\(path)/\(fileName)"
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "data.directory", type: "string", defaultValue: ".switchyard", summary: "where services keep their databases")
    ]
}
