import Foundation
import NIOCore
import Synchronization
package import SwitchyardNATS

/// `switchyard load nats`: JetStream publish/consume throughput, the same workload as the Go
/// yardstick (bench/load/nats-load): recreate stream ORDERS, publish `messages` order.placed
/// events of exactly `size` bytes with up to `window` acks outstanding, then consume them with
/// the durable pull consumer `fulfillment` (explicit acks, pulls of `batch`) and check that each
/// arrived exactly once.
package struct NATSBenchmark: Sendable {
    package var url: String
    package var messages: Int
    package var size: Int
    package var window: Int
    package var batch: Int
    package var maxAckPending: Int
    package var storage: StorageType
    package var replicas: Int
    package var stream = "ORDERS"
    package var subjects = "order.>"
    package var subject = "order.placed"
    package var durable = "fulfillment"
    /// With no message for this long the consume phase gives up (as the yardstick's 3 empty fetches).
    package var idleLimit: Duration = .seconds(15)

    package init(
        url: String, messages: Int = 200_000, size: Int = 128, window: Int = 4000, batch: Int = 1000,
        maxAckPending: Int = 20_000, storage: StorageType = .file, replicas: Int = 1
    ) {
        self.url = url
        self.messages = max(1, messages)
        self.size = max(10, size)
        self.window = max(1, window)
        self.batch = max(1, batch)
        self.maxAckPending = max(1, maxAckPending)
        self.storage = storage
        self.replicas = max(1, replicas)
    }

    package struct Result: Sendable, CustomStringConvertible {
        package var benchmark: NATSBenchmark
        package var publishElapsed: Duration
        package var consumeElapsed: Duration
        package var streamMessages: UInt64
        package var received: Int
        package var unique: Int
        package var duplicates: Int
        package var bad: Int
        package var publishErrors: Int
        package var firstPublishError: String?
        package var ackPending: Int
        package var numPending: UInt64

        package var publishRate: Double { Double(benchmark.messages) / publishElapsed.seconds }
        package var consumeRate: Double { Double(received) / consumeElapsed.seconds }
        package var ok: Bool {
            unique == benchmark.messages && duplicates == 0 && bad == 0 && publishErrors == 0
                && streamMessages == UInt64(benchmark.messages) && ackPending == 0 && numPending == 0
        }

        /// One line of key=value pairs, as the yardstick prints.
        package var description: String {
            let b = benchmark
            let megabytes = Double(b.messages) * Double(b.size) / publishElapsed.seconds / 1e6
            return "nats-load-swift url=\(b.url) n=\(b.messages) size=\(b.size) window=\(b.window) batch=\(b.batch) storage=\(b.storage.rawValue) "
                + "pub_msgs_s=\(Int(publishRate)) pub_MB_s=\(String(format: "%.2f", megabytes)) consume_msgs_s=\(Int(consumeRate)) "
                + "pub_s=\(String(format: "%.3f", publishElapsed.seconds)) consume_s=\(String(format: "%.3f", consumeElapsed.seconds)) "
                + "stream_msgs=\(streamMessages) received=\(received) unique=\(unique) dup=\(duplicates) bad=\(bad) pub_errors=\(publishErrors) "
                + "ack_pending=\(ackPending) num_pending=\(numPending) ok=\(ok)"
        }
    }

    /// Runs both phases against the server at `url` (loopback).
    package func run() async throws -> Result {
        var options = NATSClientOptions(name: "nats-load-swift")
        options.maxPendingOutboundBytes = max(64 * 1024 * 1024, window * (size + 256) * 2)
        let client = try await NATSClient.connect(servers: [url], options: options)
        do {
            let result = try await run(client: client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    private func run(client: NATSClient) async throws -> Result {
        let js = JetStream(client: client, timeout: .seconds(10))
        try await js.deleteStream(stream)
        _ = try await js.createOrUpdateStream(StreamConfig(name: stream, subjects: [subjects], storage: storage, replicas: replicas))
        let clock = ContinuousClock()

        // Publish.
        let occurredAt = ISO8601DateFormatter().string(from: Date())
        let publisher = JetStreamPublisher(jetStream: js, window: window, ackTimeout: .seconds(30), totalTimeout: .seconds(120))
        let template = BodyTemplate(size: size, occurredAt: occurredAt)
        var body = ByteBufferAllocator().buffer(capacity: size)
        let publishStart = clock.now
        for index in 0..<messages {
            body.clear()
            template.write(index: index, into: &body)
            try await publisher.publish(subject: subject, payload: body)
        }
        let outcomes = await publisher.waitForAcks()
        let publishElapsed = clock.now - publishStart
        var publishErrors = 0
        var firstPublishError: String?
        for case .failure(let error) in outcomes {
            publishErrors += 1
            if firstPublishError == nil { firstPublishError = "\(error)" }
        }
        let streamMessages = try await js.streamInfo(stream)?.state.messages ?? 0

        // Consume.
        _ = try await js.createOrUpdateConsumer(
            stream: stream, ConsumerConfig(durableName: durable, ackPolicy: .explicit, filterSubject: subject, maxAckPending: maxAckPending)
        )
        let consumeStart = clock.now
        let tally = try await consume(js: js)
        try await client.flush(timeout: .seconds(30))
        let consumeElapsed = clock.now - consumeStart

        // Acks are applied asynchronously by the server: poll briefly for a settled view.
        var info = try await js.consumerInfo(stream: stream, consumer: durable)
        let settleDeadline = clock.now.advanced(by: .seconds(5))
        while let current = info, current.numAckPending != 0 || current.numPending != 0, clock.now < settleDeadline {
            try await Task.sleep(for: .milliseconds(20))
            info = try await js.consumerInfo(stream: stream, consumer: durable)
        }
        return Result(
            benchmark: self, publishElapsed: publishElapsed, consumeElapsed: consumeElapsed, streamMessages: streamMessages,
            received: tally.received, unique: tally.unique, duplicates: tally.duplicates, bad: tally.bad,
            publishErrors: publishErrors, firstPublishError: firstPublishError,
            ackPending: info?.numAckPending ?? -1, numPending: info?.numPending ?? UInt64.max
        )
    }

    private struct Tally: Sendable {
        var received = 0
        var unique = 0
        var duplicates = 0
        var bad = 0
    }

    /// Reads until every message arrived once, or nothing arrived for `idleLimit`.
    private func consume(js: JetStream) async throws -> Tally {
        let messageStream = try js.messages(stream: stream, consumer: durable, batch: batch, expires: .seconds(5), idleHeartbeat: .seconds(1))
        let progress = ProgressClock()
        return try await withThrowingTaskGroup(of: Tally?.self) { group in
            group.addTask { [messages, size] in
                var tally = Tally()
                var seen = [Bool](repeating: false, count: messages)
                for try await message in messageStream {
                    tally.received += 1
                    progress.tick()
                    if message.payload.readableBytes == size, let index = Self.index(of: message.payload), seen.indices.contains(index) {
                        if seen[index] {
                            tally.duplicates += 1
                        } else {
                            seen[index] = true
                            tally.unique += 1
                        }
                    } else {
                        tally.bad += 1
                    }
                    try message.ack()
                    if tally.unique == messages { break }
                }
                messageStream.stop()
                return tally
            }
            group.addTask { [idleLimit] in
                // The watchdog: ends the read when it stalls. Cancelled once the reader is done,
                // which is no error.
                while !progress.idle(longerThan: idleLimit) {
                    do { try await Task.sleep(for: .milliseconds(200)) } catch { return nil }
                }
                messageStream.stop()
                return nil
            }
            var result = Tally()
            while let next = try await group.next() {
                guard let tally = next else { continue }
                result = tally
                group.cancelAll()
            }
            return result
        }
    }

    /// The yardstick's body: the OrderPlacedEvent JSON padded with spaces to `size`, or below
    /// ~104 bytes a 10-digit index and filler.
    static func writeBody(index: Int, size: Int, occurredAt: String, into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeString(jsonPrefix)
        writePadded(index, width: 10, into: &buffer)
        buffer.writeString(customerIDPrefix)
        writePadded(index % 977, width: 6, into: &buffer)
        buffer.writeString("\",\"totalCents\":1999,\"occurredAt\":\"")
        buffer.writeString(occurredAt)
        buffer.writeString("\"")
        let written = buffer.writerIndex - start
        if written + 1 <= size {
            buffer.writeRepeatingByte(UInt8(ascii: " "), count: size - 1 - written)
            buffer.writeString("}")
            return
        }
        buffer.moveWriterIndex(to: start)
        writePadded(index, width: 10, into: &buffer)
        buffer.writeRepeatingByte(UInt8(ascii: "."), count: max(0, size - 10))
        buffer.moveWriterIndex(to: start + size)
    }

    static let jsonPrefix = "{\"orderId\":\"ord-"
    static let customerIDPrefix = "\",\"customerId\":\"c-"

    /// `writeBody`'s output for any index, made by patching the digits into a body written
    /// once (so formatting does not weigh on the publish loop being measured).
    struct BodyTemplate {
        let bytes: ByteBuffer
        let indexOffset: Int
        /// Where the customer id's digits go; `nil` in the short form.
        let customerOffset: Int?

        init(size: Int, occurredAt: String) {
            var bytes = ByteBuffer()
            NATSBenchmark.writeBody(index: 0, size: size, occurredAt: occurredAt, into: &bytes)
            self.bytes = bytes
            if bytes.readableBytesView.starts(with: NATSBenchmark.jsonPrefix.utf8) {
                indexOffset = NATSBenchmark.jsonPrefix.utf8.count
                customerOffset = indexOffset + 10 + NATSBenchmark.customerIDPrefix.utf8.count
            } else {
                indexOffset = 0
                customerOffset = nil
            }
        }

        func write(index: Int, into buffer: inout ByteBuffer) {
            let start = buffer.writerIndex
            buffer.writeImmutableBuffer(bytes)
            Self.setPadded(index, width: 10, at: start + indexOffset, in: &buffer)
            if let customerOffset { Self.setPadded(index % 977, width: 6, at: start + customerOffset, in: &buffer) }
        }

        /// `value`'s last `width` decimal digits, zero-padded, as `writePadded` writes them.
        private static func setPadded(_ value: Int, width: Int, at offset: Int, in buffer: inout ByteBuffer) {
            var rest = value
            for position in stride(from: offset + width - 1, through: offset, by: -1) {
                buffer.setInteger(UInt8(ascii: "0") + UInt8(rest % 10), at: position)
                rest /= 10
            }
        }
    }

    private static func writePadded(_ value: Int, width: Int, into buffer: inout ByteBuffer) {
        let digits = String(value)
        buffer.writeRepeatingByte(UInt8(ascii: "0"), count: max(0, width - digits.utf8.count))
        buffer.writeString(digits)
    }

    /// The index a body carries, `nil` when it carries none.
    static func index(of payload: ByteBuffer) -> Int? {
        let view = payload.readableBytesView
        let prefixLength = jsonPrefix.utf8.count
        let offset = view.starts(with: jsonPrefix.utf8) ? prefixLength : 0
        guard view.count >= offset + 10 else { return nil }
        let start = view.index(view.startIndex, offsetBy: offset)
        var value = 0
        for byte in view[start..<view.index(start, offsetBy: 10)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// When the consumer last received something.
private final class ProgressClock: Sendable {
    private let last = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    func tick() { last.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }

    func idle(longerThan limit: Duration) -> Bool {
        DispatchTime.now().uptimeNanoseconds &- last.load(ordering: .relaxed) > UInt64(max(0, limit.nanoseconds))
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return max(Double(seconds) + Double(attoseconds) / 1e18, 1e-9)
    }
}
