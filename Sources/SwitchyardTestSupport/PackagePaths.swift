package import Foundation

/// Paths inside this package checkout, found from this file's own location so tests work from
/// any working directory.
package enum PackagePaths {
    /// The package root (the directory holding Package.swift).
    package static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SwitchyardTestSupport
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()

    /// The `switchyard` executable the tests run: `SWITCHYARD_BINARY` when set, else the one
    /// built next to the running test bundle (`swift build` builds it; scripts/test does that).
    package static var switchyardBinary: URL {
        if let path = ProcessInfo.processInfo.environment["SWITCHYARD_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        let testBundle = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()
        for candidate in [testBundle, testBundle.deletingLastPathComponent()] {
            let binary = candidate.appendingPathComponent("switchyard")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return root.appendingPathComponent(".build/debug/switchyard")
    }

    /// The project-local virtualenv's Python (scripts/ensure-python-tools creates it).
    package static var python: URL { root.appendingPathComponent(".venv/bin/python") }

    /// A fresh empty directory under the system's temporary directory.
    package static func makeTemporaryDirectory(prefix: String = "switchyard-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
