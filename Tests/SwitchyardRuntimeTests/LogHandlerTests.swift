import Logging
import SwitchyardRuntime
import Synchronization
import Testing

/// Collects what a `StreamLogHandler` writes.
private final class CapturedStream: TextOutputStream, Sendable {
    let lines = Mutex<[String]>([])
    func write(_ string: String) { lines.withLock { $0.append(string) } }
}

extension CapturedStream {
    /// The lines without their leading timestamp (second resolution, so two handlers logging
    /// one after the other may straddle a second).
    var untimed: [String] { lines.withLock { $0 }.map { String($0.drop(while: { $0 != " " })) } }
}

@Suite("Log handlers")
struct LogHandlerTests {
    @Test("The deferred-metadata handler writes exactly the lines StreamLogHandler writes")
    func sameLinesAsStreamLogHandler() {
        let provider = Logger.MetadataProvider { ["service": "orders", "shared": "from-provider"] }
        let plainOut = CapturedStream()
        let deferredOut = CapturedStream()
        var plain = Logger(label: "switchyard.test") { label in
            StreamLogHandler(label: label, stream: plainOut, metadataProvider: provider)
        }
        var deferred = Logger(label: "switchyard.test") { label in
            DeferredMetadataLogHandler(StreamLogHandler(label: label, stream: deferredOut, metadataProvider: nil), metadataProvider: provider)
        }
        plain[metadataKey: "request"] = "r-1"
        deferred[metadataKey: "request"] = "r-1"
        plain[metadataKey: "shared"] = "from-logger"
        deferred[metadataKey: "shared"] = "from-logger"
        plain.logLevel = .debug
        deferred.logLevel = .debug

        for logger in [plain, deferred] {
            logger.info("plain line")
            logger.debug("with call metadata", metadata: ["shared": "from-call", "extra": "x"])
            logger.trace("below the level: not written")
            logger.warning("failed", error: ProbeError())
        }

        #expect(deferredOut.untimed == plainOut.untimed)
        #expect(plainOut.untimed.count == 3)
        // The provider's value beats the logger's, the call's beats both.
        #expect(deferredOut.untimed.first?.contains("shared=from-provider") == true)
        #expect(deferredOut.untimed.dropFirst().first?.contains("shared=from-call") == true)
    }

    @Test("Metadata set on a copy of a logger stays on that copy")
    func valueSemantics() {
        let out = CapturedStream()
        var first = Logger(label: "switchyard.test") { label in
            DeferredMetadataLogHandler(StreamLogHandler(label: label, stream: out, metadataProvider: nil), metadataProvider: nil)
        }
        first[metadataKey: "only-on"] = "first"
        var second = first
        second[metadataKey: "only-on"] = "second"
        #expect(first[metadataKey: "only-on"] == "first")
        #expect(second[metadataKey: "only-on"] == "second")
        first.info("one")
        #expect(out.untimed.first?.contains("only-on=first") == true)
    }
}

private struct ProbeError: Error, CustomStringConvertible {
    var description: String { "probe failed" }
}
