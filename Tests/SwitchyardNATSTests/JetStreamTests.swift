import Logging
import NIOCore
import SwitchyardNATS
import SwitchyardTestSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct JetStreamTests {
    static let config = StreamConfig(name: "ORDERS", subjects: ["order.>"], storage: .file, duplicateWindow: .seconds(60))

    @Test func streamAndConsumerCreationIsIdempotent() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                #expect(try await js.streamInfo("ORDERS") == nil)
                let first = try await js.createOrUpdateStream(Self.config)
                let second = try await js.createOrUpdateStream(Self.config)
                #expect(first.config == second.config)
                #expect(second.config.subjects == ["order.>"])
                #expect(second.config.duplicateWindow == .seconds(60))
                // A changed configuration is an update.
                var changed = Self.config
                changed.subjects = ["order.>", "refund.>"]
                let updated = try await js.createOrUpdateStream(changed)
                #expect(updated.config.subjects == ["order.>", "refund.>"])
                #expect(try await js.streamNames() == ["ORDERS"])

                let consumer = ConsumerConfig(durableName: "fulfillment", ackWait: .seconds(10), maxDeliver: 5, filterSubject: "order.placed", maxAckPending: 100)
                let created = try await js.createOrUpdateConsumer(stream: "ORDERS", consumer)
                let again = try await js.createOrUpdateConsumer(stream: "ORDERS", consumer)
                #expect(created.name == "fulfillment")
                #expect(again.config == created.config)
                #expect(again.config.ackWait == .seconds(10))
                #expect(try await js.consumerInfo(stream: "ORDERS", consumer: "fulfillment")?.config.filterSubject == "order.placed")
                #expect(try await js.deleteConsumer(stream: "ORDERS", consumer: "fulfillment"))
                #expect(try await js.consumerInfo(stream: "ORDERS", consumer: "fulfillment") == nil)
                #expect(try await js.deleteStream("ORDERS"))
                #expect(try await js.deleteStream("ORDERS") == false)
                await #expect(throws: JetStreamAPIError.self) {
                    _ = try await js.createOrUpdateConsumer(stream: "MISSING", consumer)
                }
            }
        }
    }

    @Test func publishDeduplicatesByMessageID() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                let first = try await js.publish(subject: "order.placed", payload: Array("one".utf8), messageID: "m-1")
                let second = try await js.publish(subject: "order.placed", payload: Array("one".utf8), messageID: "m-1")
                let third = try await js.publish(subject: "order.placed", payload: Array("two".utf8), messageID: "m-2")
                #expect(first == PubAck(stream: "ORDERS", sequence: 1))
                #expect(second.duplicate)
                #expect(second.sequence == 1)
                #expect(third.sequence == 2)
                #expect(try await js.streamInfo("ORDERS")?.state.messages == 2)
                // No stream listens on this subject: no responders, retried until the deadline,
                // then an error (no responders, or a timeout if the last retry was cut short on a
                // busy machine), never a hang.
                await #expect(throws: NATSError.self) {
                    _ = try await js.publish(subject: "nowhere", payload: [1], timeout: .seconds(1))
                }
            }
        }
    }

    @Test func windowedPublishAcksEveryMessageInOrder() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                let messages = (0..<2000).map { index in
                    JetStreamOutgoingMessage(subject: "order.placed", payload: ByteBuffer(text: "\(index)"), messageID: "id-\(index)")
                }
                let acks = try await js.publishBatch(messages, window: 64)
                #expect(acks.map(\.sequence) == (1...2000).map { UInt64($0) })
                // Publishing the same ids again: all duplicates.
                let repeated = try await js.publishBatch(Array(messages.prefix(10)), window: 4)
                #expect(repeated.allSatisfy { $0.duplicate })
                // A subject without a stream fails (after retries), reported per message.
                let publisher = JetStreamPublisher(jetStream: js, window: 4, ackTimeout: .milliseconds(200), totalTimeout: .milliseconds(400))
                try await publisher.publish(subject: "nowhere", payload: ByteBuffer(text: "x"))
                try await publisher.publish(subject: "order.placed", payload: ByteBuffer(text: "y"))
                let results = await publisher.waitForAcks()
                #expect(results.count == 2)
                #expect(throws: NATSError.self) { try results[0].get() }
                #expect(try results[1].get().sequence == 2001)
            }
        }
    }

    @Test func fetchReturnsPartialBatchesAndHandlesExpiry() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                _ = try await js.createOrUpdateConsumer(stream: "ORDERS", ConsumerConfig(durableName: "worker", filterSubject: "order.placed"))
                // Nothing there: no_wait answers 404 at once, a waiting pull expires (408).
                #expect(try await js.fetch(stream: "ORDERS", consumer: "worker", batch: 10, noWait: true).isEmpty)
                #expect(try await js.fetch(stream: "ORDERS", consumer: "worker", batch: 10, expires: .seconds(1), idleHeartbeat: .milliseconds(250)).isEmpty)

                for index in 0..<5 { _ = try await js.publish(subject: "order.placed", payload: Array("m\(index)".utf8)) }
                let partial = try await js.fetch(stream: "ORDERS", consumer: "worker", batch: 10, expires: .milliseconds(500))
                #expect(partial.map { String(buffer: $0.payload) } == ["m0", "m1", "m2", "m3", "m4"])
                for message in partial { try message.ack() }

                for index in 5..<12 { _ = try await js.publish(subject: "order.placed", payload: Array("m\(index)".utf8)) }
                let full = try await js.fetch(stream: "ORDERS", consumer: "worker", batch: 4, expires: .seconds(5))
                #expect(full.count == 4)
                #expect(full.first?.metadata?.streamSequence == 6)
                for message in full { try await message.ackSync() }
                let rest = try await js.fetch(stream: "ORDERS", consumer: "worker", batch: 10, noWait: true)
                #expect(rest.count == 3)

                await #expect(throws: NATSError.self) {
                    _ = try await js.fetch(stream: "MISSING", consumer: "worker", batch: 1, noWait: true)
                }
            }
        }
    }

    @Test func acknowledgementsAndRedelivery() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                _ = try await js.createOrUpdateConsumer(
                    stream: "ORDERS", ConsumerConfig(durableName: "acks", ackWait: .seconds(30), maxDeliver: 10, filterSubject: "order.>")
                )
                _ = try await js.publish(subject: "order.nak", payload: Array("nak".utf8))
                _ = try await js.publish(subject: "order.term", payload: Array("term".utf8))
                _ = try await js.publish(subject: "order.wpi", payload: Array("wpi".utf8))

                let first = try await js.fetch(stream: "ORDERS", consumer: "acks", batch: 3, expires: .seconds(5))
                #expect(first.count == 3)
                let metadata = try #require(first[0].metadata)
                #expect(metadata.stream == "ORDERS")
                #expect(metadata.consumer == "acks")
                #expect(metadata.delivered == 1)
                #expect(metadata.streamSequence == 1)
                #expect(metadata.consumerSequence == 1)
                #expect(metadata.pending == 2)
                try first[0].nak(delay: .milliseconds(200))
                try first[1].term(reason: "bad")
                try first[2].inProgress()
                try first[2].ack()

                // Only the nak'd message comes back, once its delay passed, with delivered == 2.
                let again = try await js.fetch(stream: "ORDERS", consumer: "acks", batch: 1, expires: .seconds(5))
                #expect(again.map(\.subject) == ["order.nak"])
                #expect(again.first?.metadata?.delivered == 2)
                try again.first?.nak()
                let third = try await js.fetch(stream: "ORDERS", consumer: "acks", batch: 1, expires: .seconds(5))
                #expect(third.first?.metadata?.delivered == 3)
                try await third.first?.ackSync()

                let info = try #require(try await js.consumerInfo(stream: "ORDERS", consumer: "acks"))
                #expect(info.numAckPending == 0)
                #expect(info.numPending == 0)
                // Nothing else is redelivered: the termed and acked messages are done.
                #expect(try await js.fetch(stream: "ORDERS", consumer: "acks", batch: 3, noWait: true).isEmpty)

                // A plain message has no ack subject: an error, not a crash.
                let plain = JetStreamMessage(message: NATSMessage(subject: "x", payload: ByteBuffer()), client: client)
                #expect(throws: NATSError.notAJetStreamMessage) { try plain.ack() }
                #expect(plain.metadata == nil)
            }
        }
    }

    @Test func continuousPullDeliversEverythingOnce() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                _ = try await js.createOrUpdateConsumer(stream: "ORDERS", ConsumerConfig(durableName: "stream", filterSubject: "order.placed"))
                let total = 3000
                let messages = (0..<total).map { JetStreamOutgoingMessage(subject: "order.placed", payload: ByteBuffer(text: "\($0)")) }
                _ = try await js.publishBatch(messages, window: 256)
                let stream = try js.messages(stream: "ORDERS", consumer: "stream", batch: 100, expires: .seconds(5), idleHeartbeat: .seconds(1))
                var seen = Set<String>()
                for try await message in stream {
                    seen.insert(String(buffer: message.payload))
                    try message.ack()
                    if seen.count == total { break }
                }
                stream.stop()
                #expect(seen.count == total)
                try await client.flush()
                try await eventually("acks processed", timeout: .seconds(10)) {
                    try await js.consumerInfo(stream: "ORDERS", consumer: "stream")?.numAckPending == 0
                }
            }
        }
    }

    @Test func continuousPullEndsWhenTheConsumerIsDeleted() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                _ = try await js.createOrUpdateConsumer(stream: "ORDERS", ConsumerConfig(durableName: "doomed"))
                let stream = try js.messages(stream: "ORDERS", consumer: "doomed", batch: 10, expires: .seconds(5), idleHeartbeat: .seconds(1))
                try await client.flush()
                _ = try await js.deleteConsumer(stream: "ORDERS", consumer: "doomed")
                await #expect(throws: JetStreamError.consumerDeleted) {
                    for try await _ in stream {}
                }
            }
        }
    }

    @Test func getAndDeleteStoredMessages() async throws {
        try await withNATSServer { server in
            try await withClient([server.url]) { client in
                let js = JetStream(client: client)
                _ = try await js.createOrUpdateStream(Self.config)
                var headers = NATSHeaders()
                headers["X-Reason"] = "failed twice"
                _ = try await js.publish(subject: "order.placed", payload: Array("a".utf8))
                _ = try await js.publish(subject: "order.dead", payload: Array("b".utf8), headers: headers)
                _ = try await js.publish(subject: "order.dead", payload: Array("c".utf8))

                let second = try #require(try await js.getMessage(stream: "ORDERS", sequence: 2))
                #expect(second.subject == "order.dead")
                #expect(String(buffer: second.payload) == "b")
                #expect(second.headers?["X-Reason"] == "failed twice")
                let next = try #require(try await js.getMessage(stream: "ORDERS", nextBySubject: "order.dead", startSequence: 3))
                #expect(next.sequence == 3)
                #expect(try await js.getMessage(stream: "ORDERS", sequence: 99) == nil)

                try await js.deleteMessage(stream: "ORDERS", sequence: 2)
                #expect(try await js.getMessage(stream: "ORDERS", sequence: 2) == nil)
                #expect(try await js.getMessage(stream: "ORDERS", nextBySubject: "order.dead")?.sequence == 3)
                await #expect(throws: JetStreamAPIError.self) { try await js.deleteMessage(stream: "ORDERS", sequence: 2) }
            }
        }
    }
}
