package import Foundation
import Glibc

/// A throwaway PostgreSQL cluster on a random loopback port: `initdb` into a fresh temporary
/// directory, `pg_ctl start`, and on `remove()` a stop and the directory gone.
///
/// PostgreSQL refuses to run as root, and CI runs as root: there, every command runs as the
/// `postgres` user (`runuser -u postgres --`), in a directory that user owns. The Unix socket
/// goes into the same directory, so nothing outside it is touched. scripts/test installs the
/// server (scripts/ensure-postgres).
///
/// ```swift
/// let server = try await PostgresServerProcess.start()
/// defer { server.remove() }
/// … "--database", server.url …
/// ```
package final class PostgresServerProcess: Sendable {
    package let port: Int
    /// Holds `data/` (the cluster), the server log and the socket.
    package let directory: URL
    private let binaries: URL

    /// A superuser URL for the cluster's default database (trust authentication on loopback).
    package var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }
    var dataDirectory: URL { directory.appendingPathComponent("data") }
    var logFile: URL { directory.appendingPathComponent("server.log") }

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
                try await runChecked("/bin/chown", ["postgres:postgres", directory.path], asPostgres: false)
            }
            // --no-sync and fsync=off: a test cluster needs no durability across an OS crash;
            // a server killed with -m immediate still recovers from its WAL.
            try await server.run("initdb", ["-D", server.dataDirectory.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            try await server.startServer()
            return server
        } catch {
            server.remove()
            throw error
        }
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`: no checkpoint, clients cut
    /// off), as a crash or a lost network would; the data stays for `restart()`.
    package func stop() async throws {
        do {
            try await run("pg_ctl", ["stop", "-D", dataDirectory.path, "-m", "immediate", "-w", "-t", "60"])
        } catch {
            // pg_ctl could not do it (it waits for the PID file); kill by PID.
            if let pid = postmasterPID { kill(pid, SIGKILL) }
            throw error
        }
    }

    /// Starts the stopped server again, on the same port with the same data.
    package func restart() async throws {
        try await startServer()
    }

    /// Stops the server (by PID if need be) and deletes the cluster. Safe to call twice.
    package func remove() {
        if let pid = postmasterPID {
            // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down
            // with it. A postmaster that ignores it for whatever reason gets SIGKILL.
            kill(pid, SIGQUIT)
            let deadline = Date().addingTimeInterval(20)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(20_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The running postmaster's PID, from `postmaster.pid`.
    package var postmasterPID: Int32? {
        guard let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// What the server logged, for a failing test's report.
    package var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    private func startServer() async throws {
        let options = [
            "-p \(port)", "-k \(directory.path)", "-c listen_addresses=127.0.0.1", "-c fsync=off",
            "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=300",
        ].joined(separator: " ")
        try await run("pg_ctl", ["start", "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "120", "-o", options])
    }

    private func run(_ tool: String, _ arguments: [String]) async throws {
        try await Self.runChecked(binaries.appendingPathComponent(tool).path, arguments, asPostgres: getuid() == 0)
    }

    /// Runs a command to completion; throws with its output when it fails.
    private static func runChecked(_ executable: String, _ arguments: [String], asPostgres: Bool) async throws {
        let (launch, launchArguments) =
            asPostgres ? (try PostgresBinaries.runuser(), ["-u", "postgres", "--", executable] + arguments) : (URL(fileURLWithPath: executable), arguments)
        let process = try ManagedProcess(name: URL(fileURLWithPath: executable).lastPathComponent, executable: launch, arguments: launchArguments)
        let status = try await process.waitForExit(timeout: .seconds(180))
        guard status == 0 else {
            throw ProcessExited(name: process.name, status: status, stdout: process.standardOutput, stderr: process.standardError)
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

    static func runuser() throws -> URL {
        for path in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw NotInstalled()
    }
}
