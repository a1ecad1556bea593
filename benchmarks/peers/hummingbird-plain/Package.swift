// swift-tools-version:6.1
// Hummingbird answering the article's GET /orders?id= with a constant: the ceiling of the
// gateway's HTTP library on this machine, for benchmarks/whole-path. Not part of Switchyard.
import PackageDescription

let package = Package(
    name: "hummingbird-plain",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The version Switchyard's gateway builds with.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-plain",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ]
)
