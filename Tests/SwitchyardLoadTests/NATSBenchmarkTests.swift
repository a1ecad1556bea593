import SwitchyardLoad
import SwitchyardTestSupport
import Testing

@Suite("switchyard load nats")
struct NATSBenchmarkTests {
    @Test("The benchmark publishes and consumes every message exactly once, and says so")
    func countsEveryMessage() async throws {
        try await withNATSServer { server in
            let result = try await NATSBenchmark(url: server.url, messages: 5000, window: 500, batch: 200).run()
            #expect(result.ok, "\(result)")
            #expect(result.unique == 5000)
            #expect(result.publishRate > 0 && result.consumeRate > 0)
        }
    }
}
