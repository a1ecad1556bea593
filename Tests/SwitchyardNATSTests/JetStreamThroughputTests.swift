import NIOCore
import SwitchyardNATS
import SwitchyardTestSupport
import Testing

/// The benchmark's workload (SwitchyardLoad's NATSBenchmark) at a test's size: windowed
/// publishing, then a continuous pull with explicit acks, each message exactly once.
@Suite(.timeLimit(.minutes(1)))
struct JetStreamThroughputTests {
    @Test func windowedPublishThenContinuousPullExactlyOnce() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                let total = 20_000
                _ = try await js.createOrUpdateStream(StreamConfig(name: "ORDERS", subjects: ["order.>"]))
                let clock = ContinuousClock()
                let publishStart = clock.now
                let publisher = JetStreamPublisher(jetStream: js, window: 4000)
                for index in 0..<total {
                    try await publisher.publish(subject: "order.placed", payload: ByteBuffer(text: String(repeating: "x", count: 100) + "\(index)"))
                }
                let outcomes = await publisher.waitForAcks()
                let publishElapsed = clock.now - publishStart
                #expect(outcomes.count == total)
                #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
                #expect(try await js.streamInfo("ORDERS")?.state.messages == UInt64(total))

                _ = try await js.createOrUpdateConsumer(
                    stream: "ORDERS", ConsumerConfig(durableName: "fulfillment", filterSubject: "order.placed", maxAckPending: 20_000)
                )
                let consumeStart = clock.now
                let messages = try js.messages(stream: "ORDERS", consumer: "fulfillment", batch: 1000, expires: .seconds(5), idleHeartbeat: .seconds(1))
                var seen = Set<Int>()
                var duplicates = 0
                for try await message in messages {
                    let text = String(buffer: message.payload)
                    if let index = Int(text.drop { $0 == "x" }), seen.insert(index).inserted == false { duplicates += 1 }
                    try message.ack()
                    if seen.count == total { break }
                }
                messages.stop()
                try await client.flush()
                let consumeElapsed = clock.now - consumeStart
                #expect(seen.count == total)
                #expect(duplicates == 0)
                try await eventually("acks applied", timeout: .seconds(10)) {
                    let info = try await js.consumerInfo(stream: "ORDERS", consumer: "fulfillment")
                    return info?.numAckPending == 0 && info?.numPending == 0
                }
                print("debug build: published \(total) in \(publishElapsed), consumed in \(consumeElapsed)")
            }
        }
    }
}
