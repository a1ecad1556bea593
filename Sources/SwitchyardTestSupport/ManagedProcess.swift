package import Foundation
import Synchronization

/// A child process a test starts, reads and stops by its PID: a `switchyard` server, a Python
/// peer. Its output is collected as it arrives, so a test can wait for a line such as
/// "listening on 127.0.0.1:PORT" with a deadline.
package final class ManagedProcess: Sendable {
    private let process: Process
    private let output = OutputBuffer()
    package let name: String

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - name: For error messages.
    ///   - environment: Added to (and overriding) the test's own environment.
    ///   - currentDirectory: Where the process runs; the test's own when `nil`.
    package init(
        name: String,
        executable: URL,
        arguments: [String],
        environment: [String: String] = [:],
        currentDirectory: URL? = nil
    ) throws {
        self.name = name
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        self.process = process
        try process.run()
        // Each pipe is read by a plain thread blocking in read(2) until end of file, not by
        // `readabilityHandler`: that registers the pipe with libdispatch's epoll loop, and
        // libdispatch on Linux has crashed under us in `_dispatch_event_loop_drain` (its manager
        // thread, none of our frames) when a monitored pipe's writer dies, the crash
        // swift-subprocess also hit (swiftlang/swift-subprocess#47). A child's pipes reach end of
        // file when it exits, so the threads end with it.
        Self.collect(stdout.fileHandleForReading, name: "\(name) stdout", append: { [output] text in output.state.withLock { $0.stdout += text } }, ended: { [output] in output.state.withLock { $0.openPipes -= 1 } })
        Self.collect(stderr.fileHandleForReading, name: "\(name) stderr", append: { [output] text in output.state.withLock { $0.stderr += text } }, ended: { [output] in output.state.withLock { $0.openPipes -= 1 } })
    }

    /// Reads `handle` on a thread of its own until end of file, handing each chunk to `append`,
    /// then closes it.
    private static func collect(_ handle: FileHandle, name: String, append: @escaping @Sendable (String) -> Void, ended: @escaping @Sendable () -> Void) {
        let reader = Thread {
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    append(String(decoding: buffer[0..<count], as: UTF8.self))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            try? handle.close()
            ended()
        }
        reader.name = name
        reader.start()
    }

    package var pid: Int32 { process.processIdentifier }
    package var standardOutput: String { output.state.withLock { $0.stdout } }
    package var standardError: String { output.state.withLock { $0.stderr } }
    package var isRunning: Bool { process.isRunning }
    /// True once both pipes have reached end of file and their reading threads have ended.
    package var hasClosedOutput: Bool { output.state.withLock { $0.openPipes == 0 } }

    /// The exit status once the process has exited, else `nil`.
    package var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Waits for a stdout line matching `pattern` and returns its first capture group (or the
    /// whole match). Fails early, with the process's output, if the process exits first.
    /// Servers that log to stderr (nats-server) are read with `fromStandardError`.
    package func waitForOutput(matching pattern: String, fromStandardError: Bool = false, timeout: Duration = .seconds(60)) async throws -> String {
        let regex = try Regex(pattern)
        return try await eventually("\(name) to print /\(pattern)/", timeout: timeout) {
            let text = fromStandardError ? standardError : standardOutput
            if let match = text.firstMatch(of: regex) {
                return match.output.count > 1 ? match.output[1].substring.map(String.init) ?? "" : String(match.output[0].substring ?? "")
            }
            guard isRunning else {
                throw ProcessExited(name: name, status: process.terminationStatus, stdout: standardOutput, stderr: standardError)
            }
            return nil
        }
    }

    /// Waits for the "<what> listening on HOST:PORT" line and returns the port.
    package func waitForListeningPort(_ what: String, timeout: Duration = .seconds(60)) async throws -> Int {
        let port = try await waitForOutput(matching: "\(what) listening on [0-9.]+:([0-9]+)", timeout: timeout)
        guard let number = Int(port) else { throw ProcessExited(name: name, status: -1, stdout: standardOutput, stderr: standardError) }
        return number
    }

    /// Sends `signal` to the process by its PID.
    package func send(signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    package func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually("\(name) to exit", timeout: timeout) { process.isRunning ? nil : process.terminationStatus }
    }

    /// Kills the process (SIGKILL) if it still runs and reaps it. Safe to call twice.
    package func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

/// What a child process has printed so far, filled in by the threads reading its pipes.
private final class OutputBuffer: Sendable {
    let state = Mutex<(stdout: String, stderr: String, openPipes: Int)>(("", "", 2))
}

/// A child process ended while a test still needed it; carries its output for the report.
package struct ProcessExited: Error, CustomStringConvertible {
    package var name: String
    package var status: Int32
    package var stdout: String
    package var stderr: String

    package init(name: String, status: Int32, stdout: String, stderr: String) {
        self.name = name
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    package var description: String {
        "\(name) exited with status \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
    }
}
