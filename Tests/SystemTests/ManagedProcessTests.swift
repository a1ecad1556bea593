import Foundation
import SwitchyardTestSupport
import Testing

@Suite("A child process's output")
struct ManagedProcessTests {
    @Test("Both pipes are read in full, large output included, and their readers end when the child exits")
    func pipesAreReadToTheEnd() async throws {
        // 200 KB on stdout is more than a pipe buffers (64 KiB): the child only finishes if the
        // reader keeps draining while it writes.
        let child = try ManagedProcess(
            name: "sh",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", "head -c 200000 /dev/zero | tr '\\0' x; echo; echo done; echo oops >&2"]
        )
        defer { child.stop() }
        #expect(try await child.waitForExit() == 0)
        try await eventually("both pipes to reach end of file") { child.hasClosedOutput }
        #expect(child.standardOutput.count == 200_000 + "\ndone\n".count)
        #expect(child.standardOutput.hasSuffix("x\ndone\n"))
        #expect(child.standardError == "oops\n")
    }
}
