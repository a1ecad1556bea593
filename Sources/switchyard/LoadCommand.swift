import ArgumentParser
import Foundation
import GRPCCore
import SwitchyardRuntime
import NIOHTTP1
import Logging
import SwitchyardEventBus
import SwitchyardLoad

/// `switchyard load rest|grpc|orders`: the project's load generator.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Put load on a REST URL, a gRPC GetStock server, the order flow, or the event bus; report rates and latency percentiles.",
        subcommands: [REST.self, GRPC.self, Orders.self, Bus.self, NATS.self]
    )

    struct REST: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Any HTTP/1.1 URL, method and body.")

        @OptionGroup var options: LoadOptions

        @Option(help: "The URL, e.g. 'http://127.0.0.1:8080/orders?id=ord_1'.")
        var url: String

        @Option(help: "GET, POST, PUT or DELETE.")
        var method: String = "GET"

        @Option(help: "A request body (sent as JSON unless a Content-Type header says otherwise).")
        var body: String?

        @Option(name: .customLong("header"), help: ArgumentHelp("'Name: value'. Repeatable.", valueName: "header"))
        var headers: [String] = []

        func run() async throws {
            let parsedHeaders = try headers.map { header in
                guard let colon = header.firstIndex(of: ":") else { throw ValidationError("--header expects 'Name: value', got '\(header)'") }
                return (String(header[..<colon]), header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let target = try HTTPLoadTarget(url: url, method: HTTPMethod(rawValue: method.uppercased()), headers: parsedHeaders, body: body)
            try await options.run(target)
        }
    }

    struct GRPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "inventory.Inventory/GetStock on any implementation of the article's proto.")

        @OptionGroup var options: LoadOptions

        @Option(help: "host:port of the gRPC server.")
        var target: String = "127.0.0.1:50051"

        @Option(help: "The SKU every call asks for.")
        var sku: String = "sku-1"

        @Option(help: "The client's HTTP/2 implementation: switchyard (lean, the default) or grpc-nio (grpc-swift's).")
        var transport: String = GRPCClientTransportKind.switchyard.rawValue

        func run() async throws {
            let address = try HostAndPort(parsing: target)
            guard let kind = GRPCClientTransportKind(rawValue: transport) else {
                throw ValidationError("--transport must be one of \(GRPCClientTransportKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let transport = try ErasedGRPCClientTransport(kind: kind, target: .address(GRPCClientConfiguration(host: address.host, port: address.port)))
            try await withGRPCClient(transport: transport) { client in
                try await options.run(GRPCGetStockTarget(client: client, address: target, sku: sku))
            }
        }
    }

    struct Orders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Place real orders through the gateway, each with its own Idempotency-Key, then wait until every accepted one is visible."
        )

        @OptionGroup var options: LoadOptions

        @Option(help: "The gateway's base URL.")
        var gateway: String = "http://127.0.0.1:8080"

        @Option(help: "The SKU every order buys one of (the demo catalogue's sku-5 has a million).")
        var sku: String = "sku-5"

        @Flag(inversion: .prefixedNo, help: "Wait until every accepted order is shipped and report placed→shipped latency (needs the event loop running).")
        var waitShipped = true

        @Option(help: "How long to wait after the run for orders to become visible (and shipped).")
        var settleTimeout = "60s"

        func run() async throws {
            let target = try OrdersLoadTarget(gateway: gateway.trimmingCharacters(in: CharacterSet(charactersIn: "/")), sku: sku)
            let result = try await options.measure(target)
            let outcome = try await target.inspectAccepted(untilShipped: waitShipped, timeout: try LoadOptions.parseDuration(settleTimeout))
            let accepted = target.acceptedIDs.count
            var extra: [String: Any] = ["accepted": accepted, "visible": outcome.visible]
            if waitShipped {
                let shipped = outcome.placedToShipped
                extra["shipped"] = outcome.shipped
                extra["placedToShippedMs"] = [
                    "p50": shipped.microseconds(atPercentile: 50) / 1000,
                    "p90": shipped.microseconds(atPercentile: 90) / 1000,
                    "p99": shipped.microseconds(atPercentile: 99) / 1000,
                    "max": shipped.microseconds(atPercentile: 100) / 1000,
                ]
            }
            options.report(result, extra: extra)
            if outcome.visible != accepted {
                throw LoadFailure("\(accepted - outcome.visible) accepted orders never became visible")
            }
            if waitShipped && outcome.shipped != accepted {
                throw LoadFailure("\(accepted - outcome.shipped) accepted orders were not shipped within \(settleTimeout)")
            }
        }
    }
}

extension LoadCommand {
    struct Bus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Durable publish, then consume, rates of the embedded event bus, in events/s.",
            discussion: """
                Publishes --events events of --size bytes from --publishers concurrent publishers \
                (--batch events per call), then consumes them all as one fresh consumer group of \
                --consumers instances. The log is a new SQLite file (WAL, synchronous=NORMAL, \
                as in production) under a temporary directory unless --path names one.
                """
        )

        @Option(help: "Events to publish and consume.")
        var events = 200_000

        @Option(help: "Payload bytes per event.")
        var size = 128

        @Option(help: "Concurrent publishers.")
        var publishers = 64

        @Option(help: "Events per publish call (1 measures group commit across publishers).")
        var batch = 1

        @Option(help: "Consumer instances of the group.")
        var consumers = 1

        @Option(help: "Events one consumer instance claims at once.")
        var consumerBatch = 512

        @Option(help: "The event log file (default: a new file in a temporary directory, removed afterwards).")
        var path: String?

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func run() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchyard-bus-\(UUID().uuidString)")
            let file = path ?? directory.appendingPathComponent("events.sqlite").path
            if path == nil { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
            defer { if path == nil { try? FileManager.default.removeItem(at: directory) } }

            let (bus, _) = try EventBusConfiguration(path: file).openEmbedded(logger: Logger(label: "switchyard.load.bus"))
            let benchmark = BusBenchmark(
                events: events, payloadBytes: size, publishers: publishers, batch: batch,
                consumers: consumers, consumerBatch: consumerBatch
            )
            let result = try await benchmark.run(on: bus)
            let calls = result.publishCalls
            if json {
                let object: [String: Any] = [
                    "target": "bus (embedded)",
                    "events": events, "payloadBytes": size, "publishers": publishers, "batch": batch,
                    "consumers": consumers, "consumerBatch": consumerBatch,
                    "publishRate": result.publishRate.rounded(), "consumeRate": result.consumeRate.rounded(),
                    "consumed": result.consumed,
                    "publishCallMicroseconds": ["p50": calls.microseconds(atPercentile: 50), "p99": calls.microseconds(atPercentile: 99), "p999": calls.microseconds(atPercentile: 99.9)],
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(
                    format: "bus (embedded): publish=%.0f events/s (call p50_us=%llu p99_us=%llu) consume=%.0f events/s consumed=%d/%d",
                    result.publishRate, calls.microseconds(atPercentile: 50), calls.microseconds(atPercentile: 99),
                    result.consumeRate, result.consumed, events
                ))
            }
            if result.consumed != events {
                throw LoadFailure("consumed \(result.consumed) of \(events) events")
            }
        }
    }
}

extension LoadCommand {
    struct NATS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nats",
            abstract: "Our NATS client against a NATS JetStream server: publish, then consume, rates in messages/s.",
            discussion: """
                The workload of ../shared/bench's nats-load (the nats.go yardstick): recreates \
                stream ORDERS (order.>, file, R1), publishes --messages messages of --size bytes \
                to order.placed with --window publish acks outstanding, then consumes them all \
                with the durable pull consumer fulfillment (explicit acks, --batch per pull) and \
                checks each arrived exactly once. Deletes any stream ORDERS on the server.
                """
        )

        @Option(help: "The server, nats://host:port.")
        var url = "nats://127.0.0.1:4222"

        @Option(help: "Messages to publish and consume.")
        var messages = 200_000

        @Option(help: "Payload bytes per message.")
        var size = 128

        @Option(help: "Publishes awaiting their ack at once.")
        var window = 4000

        @Option(help: "Messages per pull request.")
        var batch = 1000

        func run() async throws {
            let result = try await NATSBenchmark(url: url, messages: messages, size: size, window: window, batch: batch).run()
            print(result)
            if !result.ok { throw LoadFailure("not every message arrived exactly once: \(result)") }
        }
    }
}

/// The options every load target shares: mode, limit, warm-up and output.
struct LoadOptions: ParsableArguments {
    @Option(help: "Closed loop: this many requests in flight, each sent when the last answered.")
    var concurrency: Int = 64

    @Option(help: "Open loop: this many requests per second, latency counted from when each was due.")
    var rate: Double?

    @Option(help: "Open loop: at most this many requests outstanding.")
    var maxInFlight: Int = 1024

    @Option(help: "How long to measure, e.g. 10s, 500ms, 1m (ignored with --count).")
    var duration: String = "10s"

    @Option(help: "Measure exactly this many requests instead of a duration.")
    var count: Int?

    @Option(help: "Load sent first and not measured.")
    var warmup: String = "2s"

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    var plan: LoadPlan {
        get throws {
            let mode: LoadMode = if let rate { .open(ratePerSecond: rate, maxInFlight: maxInFlight) } else { .closed(concurrency: concurrency) }
            let limit: LoadLimit = if let count { .count(count) } else { .duration(try Self.parseDuration(duration)) }
            return LoadPlan(mode: mode, limit: limit, warmup: try Self.parseDuration(warmup))
        }
    }

    func validate() throws {
        guard concurrency > 0, maxInFlight > 0 else { throw ValidationError("--concurrency and --max-in-flight must be at least 1") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
    }

    /// Runs `target` and reports it.
    func run<Target: LoadTarget>(_ target: Target) async throws {
        report(try await measure(target))
    }

    /// Runs `target`, showing progress on standard error: a live line on a terminal, a plain
    /// line a second otherwise.
    func measure<Target: LoadTarget>(_ target: Target) async throws -> LoadResult {
        let live = isatty(STDERR_FILENO) == 1
        let result = try await LoadRunner(target: target, plan: try plan).run { progress in
            let line = LoadReport.progress(progress)
            FileHandle.standardError.write(Data((live ? "\r\(line)" : "\(line)\n").utf8))
        }
        if live { FileHandle.standardError.write(Data("\n".utf8)) }
        return result
    }

    func report(_ result: LoadResult, extra: [String: Any] = [:]) {
        if json {
            print(LoadReport.json(result, extra: extra))
        } else {
            let extras = extra.sorted { $0.key < $1.key }.map { key, value in
                // Nested figures print flat: placedToShippedMs=p50:20,p90:55,…
                guard let nested = value as? [String: Any] else { return " \(key)=\(value)" }
                return " \(key)=" + nested.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
            }.joined()
            print("\(result.target): \(LoadReport.line(result))\(extras)")
        }
    }

    /// `10s`, `500ms`, `2m`, `1.5s`.
    static func parseDuration(_ text: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value >= 0 {
                return .nanoseconds(Int64((value * scale * 1e9).rounded()))
            }
        }
        throw ValidationError("expected a duration such as 10s, 500ms or 1m, got '\(text)'")
    }
}

/// A run that finished but did not do what it should (printed as `Error: …`, exit 1).
struct LoadFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
