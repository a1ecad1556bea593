package import Foundation
import Glibc
import Synchronization

/// A throwaway PostgreSQL cluster on a random loopback port: `initdb` into a fresh temporary
/// directory, then the server itself (`postgres`, in the foreground, so this process holds its
/// PID), stopped by that PID and the directory removed on `remove()`.
///
/// PostgreSQL refuses to run as root, and CI runs as root: there, `initdb` runs as the
/// `postgres` user (`runuser -u postgres --`) and the server through `setpriv`, which
/// switches user and then execs, so the PID held is the postmaster's own (`pg_ctl start` would
/// daemonise it). Everything, the Unix socket included, lives in a directory that user owns.
/// scripts/test installs the server (scripts/ensure-postgres).
///
/// ```swift
/// let server = try await PostgresServerProcess.start()
/// defer { server.remove() }
/// … "--database", server.url …
/// ```
package final class PostgresServerProcess: Sendable {
    package let port: Int
    /// Holds `data/` (the cluster) and the socket.
    package let directory: URL
    private let binaries: URL
    private let postmaster = Mutex<ManagedProcess?>(nil)

    /// A superuser URL for the cluster's default database (trust authentication on loopback).
    package var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }
    var dataDirectory: URL { directory.appendingPathComponent("data") }

    private init(port: Int, directory: URL, binaries: URL) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
    }

    /// Creates a cluster and starts it; waits until it accepts connections.
    package static func start() async throws -> PostgresServerProcess {
        let binaries = try PostgresBinaries.locate()
        let directory = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-pg")
        let server = PostgresServerProcess(port: try freeLoopbackPort(), directory: directory, binaries: binaries)
        do {
            if getuid() == 0 {
                try await runChecked(URL(fileURLWithPath: "/bin/chown"), ["postgres:postgres", directory.path])
                try await runChecked(try PostgresBinaries.runuser(), ["-u", "postgres", "--", binaries.appendingPathComponent("initdb").path] + server.initdbArguments)
            } else {
                try await runChecked(binaries.appendingPathComponent("initdb"), server.initdbArguments)
            }
            try await server.restart()
            return server
        } catch {
            server.remove()
            throw error
        }
    }

    /// Stops the server at once, as a crash or a lost network would: SIGQUIT, PostgreSQL's
    /// immediate shutdown (no checkpoint, every client cut off), then SIGKILL should it linger.
    /// The data stays for `restart()`.
    package func stop() async throws {
        guard let process = postmaster.withLock({ $0 }) else { return }
        process.send(signal: SIGQUIT)
        do {
            _ = try await process.waitForExit(timeout: .seconds(60))
        } catch {
            process.stop()
        }
        postmaster.withLock { $0 = nil }
    }

    /// Starts the (stopped) server, on the same port with the same data; waits until it
    /// accepts connections.
    package func restart() async throws {
        // fsync off: a test cluster needs no durability across an OS crash. A commit still
        // waits for its WAL write (synchronous_commit stays on), so a server stopped with
        // SIGQUIT recovers every committed transaction, as the outage tests require.
        let serverArguments = [
            "-D", dataDirectory.path, "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=300",
        ]
        let postgres = binaries.appendingPathComponent("postgres").path
        let process =
            getuid() == 0
            ? try ManagedProcess(
                name: "postgres", executable: try PostgresBinaries.setpriv(),
                arguments: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", postgres] + serverArguments
            )
            : try ManagedProcess(name: "postgres", executable: URL(fileURLWithPath: postgres), arguments: serverArguments)
        postmaster.withLock { $0 = process }
        _ = try await process.waitForOutput(matching: "database system is ready to accept connections", fromStandardError: true, timeout: .seconds(120))
    }

    /// Stops the server by its PID and deletes the cluster. Safe to call twice.
    package func remove() {
        if let process = postmaster.withLock({ $0 }) {
            // The postmaster takes its backends down with it on SIGQUIT; SIGKILL would leave them.
            process.send(signal: SIGQUIT)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            process.stop()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The running postmaster's PID.
    package var postmasterPID: Int32? { postmaster.withLock { $0?.pid } }

    /// What the server logged, for a failing test's report.
    package var log: String { postmaster.withLock { $0?.standardError } ?? "" }

    private var initdbArguments: [String] {
        ["-D", dataDirectory.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
    }

    /// Runs a command to completion; throws with its output when it fails.
    private static func runChecked(_ executable: URL, _ arguments: [String]) async throws {
        let process = try ManagedProcess(name: executable.lastPathComponent, executable: executable, arguments: arguments)
        let status = try await process.waitForExit(timeout: .seconds(180))
        guard status == 0 else {
            throw ProcessExited(name: arguments.first ?? process.name, status: status, stdout: process.standardOutput, stderr: process.standardError)
        }
    }
}

/// Runs `body` with a fresh cluster, removing it afterwards whatever happens.
package func withPostgresServer<R: Sendable>(_ body: (PostgresServerProcess) async throws -> R) async throws -> R {
    let server = try await PostgresServerProcess.start()
    do {
        let result = try await body(server)
        server.remove()
        return result
    } catch {
        server.remove()
        throw error
    }
}

/// Where PostgreSQL's server programs are: `SWITCHYARD_POSTGRES_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
package enum PostgresBinaries {
    package struct NotInstalled: Error, CustomStringConvertible {
        package var description: String { "PostgreSQL (initdb, pg_ctl) not found: run scripts/ensure-postgres (scripts/test does)" }
    }

    package static func locate() throws -> URL {
        let manager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["SWITCHYARD_POSTGRES_BIN"], manager.isExecutableFile(atPath: "\(path)/initdb") {
            return URL(fileURLWithPath: path)
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? manager.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where manager.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return URL(fileURLWithPath: "\(root)/\(version)/bin")
        }
        throw NotInstalled()
    }

    static func setpriv() throws -> URL {
        for path in ["/usr/bin/setpriv", "/bin/setpriv"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw NotInstalled()
    }

    static func runuser() throws -> URL {
        for path in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw NotInstalled()
    }
}
