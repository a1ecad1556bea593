package import Foundation

/// A real nats-server on a random loopback port, with JetStream storing into a fresh temporary
/// directory, started and stopped by PID. scripts/test installs the server (scripts/ensure-nats-server).
package final class NATSServerProcess: Sendable {
    package let process: ManagedProcess
    package let port: Int
    /// The route (cluster) port, when started as a cluster node.
    package let clusterPort: Int?
    package let storeDirectory: URL
    package let name: String
    /// What it was started with beyond the basics (cluster name, routes…), for `restart`.
    private let extraArguments: [String]
    private let binary: URL?

    package var url: String { "nats://127.0.0.1:\(port)" }
    package var pid: Int32 { process.pid }
    package var isRunning: Bool { process.isRunning }

    private init(process: ManagedProcess, port: Int, clusterPort: Int?, storeDirectory: URL, name: String, extraArguments: [String], binary: URL?) {
        self.extraArguments = extraArguments
        self.binary = binary
        self.process = process
        self.port = port
        self.clusterPort = clusterPort
        self.storeDirectory = storeDirectory
        self.name = name
    }

    /// Starts a server and waits until it accepts clients.
    /// - Parameters:
    ///   - port: The client port; `-1` lets the server pick one (read back from its log).
    ///   - storeDirectory: Where JetStream keeps its data; a fresh directory when `nil`. Pass
    ///     a stopped server's directory to restart it with its data.
    package static func start(
        jetStream: Bool = true,
        name: String = "nats",
        port: Int = -1,
        storeDirectory: URL? = nil,
        binary: URL? = nil,
        extraArguments: [String] = []
    ) async throws -> NATSServerProcess {
        let store = try storeDirectory ?? PackagePaths.makeTemporaryDirectory(prefix: "switchyard-nats")
        var arguments = ["-a", "127.0.0.1", "-p", "\(port)", "-n", name]
        if jetStream { arguments += ["-js", "-sd", store.path] }
        arguments += extraArguments
        let process = try ManagedProcess(name: name, executable: try binary ?? NATSServerBinary.locate(), arguments: arguments)
        do {
            let clientPort = try await process.waitForOutput(
                matching: #"Listening for client connections on 127\.0\.0\.1:([0-9]+)"#, fromStandardError: true
            )
            let clusterPort: Int? =
                extraArguments.contains("--cluster")
                ? Int(try await process.waitForOutput(matching: #"Listening for route connections on 127\.0\.0\.1:([0-9]+)"#, fromStandardError: true))
                : nil
            if jetStream {
                _ = try await process.waitForOutput(matching: "Server is ready", fromStandardError: true)
            }
            guard let number = Int(clientPort) else { throw ProcessExited(name: name, status: -1, stdout: "", stderr: process.standardError) }
            return NATSServerProcess(
                process: process, port: number, clusterPort: clusterPort, storeDirectory: store, name: name, extraArguments: extraArguments, binary: binary
            )
        } catch {
            process.stop()
            throw error
        }
    }

    /// SIGKILL, and waits for the process to be gone: a crash, as far as the cluster can tell.
    package func stop() {
        process.stop()
    }

    /// Starts this server again on the same port with the same data and arguments (a cluster
    /// node rejoins its cluster), after `stop`.
    package func restart() async throws -> NATSServerProcess {
        try await Self.start(jetStream: true, name: name, port: port, storeDirectory: storeDirectory, binary: binary, extraArguments: extraArguments)
    }
}

/// Runs `body` with a fresh JetStream server, stopping it afterwards whatever happens.
package func withNATSServer<R: Sendable>(jetStream: Bool = true, _ body: (NATSServerProcess) async throws -> R) async throws -> R {
    let server = try await NATSServerProcess.start(jetStream: jetStream)
    do {
        let result = try await body(server)
        server.stop()
        return result
    } catch {
        server.stop()
        throw error
    }
}

/// A JetStream cluster of `size` nodes on loopback. JetStream clustering needs every node's
/// routes up front, so the route ports are picked free first (bound, read, closed); the
/// client ports are the servers' own random picks.
package final class NATSCluster: Sendable {
    package let nodes: [NATSServerProcess]
    package let name: String

    /// Every node's client URL, comma-separated, as `--bus` takes them.
    package var urls: String { nodes.map(\.url).joined(separator: ",") }

    private init(nodes: [NATSServerProcess], name: String) {
        self.nodes = nodes
        self.name = name
    }

    package static func start(size: Int = 3, name: String = "switchyard-test") async throws -> NATSCluster {
        let routePorts = try (0..<max(1, size)).map { _ in try freeLoopbackPort() }
        let routes = routePorts.map { "nats://127.0.0.1:\($0)" }.joined(separator: ",")
        var nodes: [NATSServerProcess] = []
        do {
            // Started together: a JetStream node waits for its peers before it is ready.
            try await withThrowingTaskGroup(of: NATSServerProcess.self) { group in
                for (index, routePort) in routePorts.enumerated() {
                    group.addTask {
                        try await NATSServerProcess.start(
                            name: "n\(index + 1)",
                            extraArguments: ["--cluster_name", name, "--cluster", "nats://127.0.0.1:\(routePort)", "--routes", routes]
                        )
                    }
                }
                for try await node in group { nodes.append(node) }
            }
            nodes.sort { $0.name < $1.name }
            return NATSCluster(nodes: nodes, name: name)
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    package func stop() {
        for node in nodes { node.stop() }
    }

    /// The node named `serverName` (as JetStream reports leaders: "n1", "n2", …).
    package func node(named serverName: String) -> NATSServerProcess? {
        nodes.first { $0.name == serverName }
    }
}

/// Where the nats-server binary is: `SWITCHYARD_NATS_SERVER`, the project's virtualenv (the
/// PyPI wheel scripts/ensure-nats-server installs), Debian's package, then `PATH`.
package enum NATSServerBinary {
    package struct NotInstalled: Error, CustomStringConvertible {
        package var description: String { "nats-server not found: run scripts/ensure-nats-server (scripts/test does)" }
    }

    /// Debian's package (nats-server 2.9), when installed: the oldest server we support, so the
    /// bus conformance suite runs against it too.
    package static var debian: URL? {
        ["/usr/sbin/nats-server", "/usr/bin/nats-server"].first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }

    package static func locate() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let configured = environment["SWITCHYARD_NATS_SERVER"] { candidates.append(configured) }
        candidates.append(PackagePaths.root.appendingPathComponent(".venv/bin/nats-server").path)
        candidates += ["/usr/bin/nats-server", "/usr/sbin/nats-server"]
        for directory in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(directory)/nats-server") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { throw NotInstalled() }
        return URL(fileURLWithPath: found)
    }
}
