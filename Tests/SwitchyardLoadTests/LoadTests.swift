import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import SwitchyardLoad
import Logging
import SwitchyardEventBus
import SwitchyardTestSupport
import Synchronization
import Testing

@Suite("Latency samples")
struct LatencySampleTests {
    @Test("Merging keeps every count, error and extreme")
    func merging() {
        var a = LatencySample()
        var b = LatencySample()
        for micros in 1...1000 { a.record(.microseconds(micros)) }
        for _ in 0..<1000 { b.record(.milliseconds(100)) }
        b.recordError()
        b.recordError()
        var merged = LatencySample()
        merged.merge(a)
        merged.merge(b)
        #expect(merged.count == 2000)
        #expect(merged.errors == 2)
        #expect(merged.histogram.max >= 99_900)
        #expect(merged.microseconds(atPercentile: 25) <= 510)
        #expect(merged.microseconds(atPercentile: 75) >= 99_000)
    }

    @Test("Durations become whole microseconds within the histogram's range", arguments: [
        (Duration.zero, UInt64(1)), (.nanoseconds(999), 1), (.microseconds(1500), 1500), (.seconds(2), 2_000_000), (.seconds(100_000), 3_600_000_000),
    ])
    func conversion(duration: Duration, micros: UInt64) {
        #expect(LatencySample.microseconds(duration) == micros)
    }
}

@Suite("Ticket pacing")
struct TicketDispenserTests {
    @Test("Open loop: ticket n is due at start + n / rate, whenever it is taken")
    func openLoopSchedule() throws {
        let start = ContinuousClock.now
        let tickets = TicketDispenser(start: start, ratePerSecond: 1000, limit: .count(5))
        // Taken late (a second after the start), the tickets still carry their own due times.
        let late = start.advanced(by: .seconds(1))
        let dues = (0..<5).compactMap { _ in tickets.next(now: late)?.due }
        #expect(dues == (0..<5).map { start.advanced(by: .milliseconds($0)) })
        #expect(tickets.next(now: late) == nil)
    }

    @Test("Duration limit: no ticket is due at or after the end")
    func durationLimit() {
        let start = ContinuousClock.now
        let tickets = TicketDispenser(start: start, ratePerSecond: 100, limit: .duration(.milliseconds(50)))
        var count = 0
        while tickets.next(now: start) != nil { count += 1 }
        #expect(count == 5)
    }

    @Test("Closed loop: a ticket is due when it is taken")
    func closedLoop() throws {
        let tickets = TicketDispenser(start: .now, ratePerSecond: nil, limit: .count(3))
        let now = ContinuousClock.now.advanced(by: .seconds(5))
        #expect(try #require(tickets.next(now: now)).due == now)
    }
}

/// A target that answers at once, except that request `stallAt` takes `stall`.
struct StallingTarget: LoadTarget {
    let stallAt: Int
    let stall: Duration
    let sent = SentCounter()
    var name: String { "stalling" }

    func connect() async throws -> Connection { Connection(target: self) }

    struct Connection: LoadConnection {
        let target: StallingTarget
        func send(number: Int) async throws {
            target.sent.increment()
            if number == target.stallAt { try await Task.sleep(for: target.stall) }
        }
        func close() async {}
    }
}

final class SentCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

@Suite("Coordinated omission")
struct CoordinatedOmissionTests {
    @Test("Open loop: a stall shows in the latency of every request due during it")
    func stallIsVisible() async throws {
        // 200 requests at 200/s through one worker; request 10 stalls 500 ms. About 100
        // requests fall due during the stall and must each wait for it: half the requests are
        // late by 0 to 500 ms, so the 75th percentile sits near 250 ms.
        let target = StallingTarget(stallAt: 10, stall: .milliseconds(500))
        let result = try await LoadRunner(target: target, plan: LoadPlan(mode: .open(ratePerSecond: 200, maxInFlight: 1), limit: .count(200))).run()
        #expect(result.requests == 200)
        #expect(result.sample.microseconds(atPercentile: 75) >= 100_000)
    }

    @Test("Closed loop hides the same stall: only one request is slow")
    func closedLoopHidesIt() async throws {
        let target = StallingTarget(stallAt: 10, stall: .milliseconds(500))
        let result = try await LoadRunner(target: target, plan: LoadPlan(mode: .closed(concurrency: 1), limit: .count(200))).run()
        #expect(result.requests == 200)
        #expect(result.sample.microseconds(atPercentile: 75) < 100_000)
        #expect(result.sample.microseconds(atPercentile: 99) < 100_000)
        #expect(result.sample.histogram.max >= 490_000)
    }
}

@Suite("Load against a real server")
struct LoadSmokeTests {
    @Test("For a second against an in-process HTTP server, every request is counted")
    func countsEveryRequest() async throws {
        let server = try await CountingHTTPServer.start()
        let target = try HTTPLoadTarget(url: "http://127.0.0.1:\(server.port)/ping")
        let result = try await LoadRunner(target: target, plan: LoadPlan(mode: .closed(concurrency: 4), limit: .duration(.seconds(1)), warmup: .milliseconds(200))).run()
        let served = server.served
        #expect(result.errors == 0)
        #expect(result.requests > 0)
        // Everything the server answered was either warm-up or counted.
        #expect(UInt64(served) >= result.requests)
        let warmupServed = served - Int(result.requests)
        #expect(warmupServed >= 0)
        let before = server.served
        let counted = try await LoadRunner(target: target, plan: LoadPlan(mode: .closed(concurrency: 4), limit: .count(500))).run()
        try await server.stop()
        #expect(counted.requests == 500)
        #expect(server.served - before == 500)
    }
}

/// A tiny keep-alive HTTP/1.1 server on 127.0.0.1 that answers 200 and counts.
final class CountingHTTPServer: Sendable {
    private let channel: any Channel
    private let counter: SentCounter
    let port: Int
    var served: Int { counter.value }

    private init(channel: any Channel, counter: SentCounter) {
        self.channel = channel
        self.counter = counter
        self.port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> CountingHTTPServer {
        let counter = SentCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CountingHTTPServer(channel: channel, counter: counter)
    }

    func stop() async throws { try await channel.close() }

    private final class Responder: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counter: SentCounter
        init(counter: SentCounter) { self.counter = counter }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            counter.increment()
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

@Suite("Bus benchmark")
struct BusBenchmarkTests {
    @Test("Every published event is counted once on each side, on the in-memory and the embedded engine", arguments: ["in-memory", "embedded"])
    func countsEveryEvent(engine: String) async throws {
        let directory = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-bus-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bus: any EventBus = engine == "embedded"
            ? try EventBusConfiguration(path: directory.appendingPathComponent("events.sqlite").path).openEmbedded(logger: Logger(label: "test")).bus
            : InMemoryEventBus()
        // 1,000 events in calls of 3 (the last call carries 1), over 7 publishers and 2 consumers.
        let result = try await BusBenchmark(events: 1000, payloadBytes: 16, publishers: 7, batch: 3, consumers: 2, consumerBatch: 50).run(on: bus)
        #expect(result.published == 1000)
        #expect(result.publishCalls.count == 334)
        #expect(result.consumed == 1000)
        #expect(result.publishRate > 0 && result.consumeRate > 0)
    }
}

@Suite("Orders load: placed→shipped")
struct OrderStateTests {
    @Test("placed→shipped is shippedAt − createdAt from the order itself; a placed order has none")
    func readsShippingTime() throws {
        let shipped = OrderState(ByteBuffer(string: #"{"id":"ord_1","status":"shipped","createdAt":"2026-11-25T02:00:00.250Z","shippedAt":"2026-11-25T02:00:00.287Z"}"#))
        #expect(shipped?.shippedAfter == .milliseconds(37))
        let placed = OrderState(ByteBuffer(string: #"{"id":"ord_1","status":"placed","createdAt":"2026-11-25T02:00:00.250Z"}"#))
        #expect(placed != nil && placed?.shippedAfter == nil)
        #expect(OrderState(ByteBuffer(string: "<html>")) == nil)
    }
}
