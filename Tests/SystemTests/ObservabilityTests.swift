import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import NIOHTTP1
import SwiftProtobuf
import Synchronization
import SwitchyardContracts
import SwitchyardEventBus
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

/// Telemetry as an operator meets it: a real `switchyard` process, its `traceresponse`
/// header, `/debug/traces`, `switchyard trace`, `/metrics` and its JSON logs.
@Suite("Observability: one trace across every hop, Prometheus metrics, correlated logs")
struct ObservabilityTests {
    enum Engine: String, CaseIterable, Sendable {
        case embedded
        case nats
    }

    @Test("One POST yields one trace id, in the spans of the gateway, orders, inventory, the outbox relay, fulfillment and orders' shipment.dispatched handler", arguments: Engine.allCases)
    func oneTraceAcrossEveryHop(engine: Engine) async throws {
        switch engine {
        case .embedded:
            try await checkOneTrace(busArguments: [])
        case .nats:
            try await withNATSServer { server in try await checkOneTrace(busArguments: ["--bus", server.url]) }
        }
    }

    private func checkOneTrace(busArguments: [String]) async throws {
        let data = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-trace")
        let dev = try ManagedProcess(
            name: "switchyard dev",
            executable: PackagePaths.switchyardBinary,
            arguments: ["dev", "--port", "0", "--inventory-port", "0", "--orders-port", "0", "--data-directory", data.path, "--log-format", "json"]
                + busArguments
        )
        defer { dev.stop() }
        let gatewayURL = "http://127.0.0.1:\(try await dev.waitForListeningPort("gateway HTTP", timeout: .seconds(120)))"
        let http = HTTPTestClient(baseURL: gatewayURL)
        _ = try await eventually("the system to be ready", timeout: .seconds(120)) { try await http.get("/health/ready").status == 200 ? true : nil }

        let placed = try await http.placeOrder(key: "trace-1", json: #"{"customerId": "c-trace", "lines": [{"sku": "sku-2", "quantity": 1, "unitPriceCents": 250}]}"#)
        try #require(placed.status == 201, "\(placed.body)")
        let orderID = try #require(placed.json?["id"] as? String)
        // traceresponse: 00-<trace id>-<span id>-<flags>
        let traceresponse = try #require(placed.headers.first(name: "traceresponse"), "the gateway names the request's trace")
        let traceID = try #require(traceresponse.split(separator: "-").dropFirst().first.map(String.init))
        #expect(traceID.count == 32)
        // Errors name their trace too: they are what someone goes looking for.
        let missing = try await http.get("/orders?id=ord_missing")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "NOT_FOUND")
        #expect(missing.headers.first(name: "traceresponse")?.hasPrefix("00-") == true)

        // The loop ends with orders marking the order shipped; its span closes the trace.
        let spans = try await eventually("the whole loop's spans", timeout: .seconds(60)) { () -> [RecordedSpan]? in
            let response = try await http.get("/debug/traces/\(traceID)")
            guard response.status == 200 else { return nil }
            let spans = try JSONDecoder().decode([RecordedSpan].self, from: Data(response.body.utf8))
            return spans.contains { $0.name == "process shipment.dispatched" && $0.service == "orders" } ? spans : nil
        }
        #expect(Set(spans.map(\.traceID)) == [traceID])
        func has(_ service: String, _ kind: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(spans.contains { $0.service == service && $0.kind == kind && $0.name == name }, "no \(kind) span \(name) of \(service)", sourceLocation: sourceLocation)
        }
        has("gateway", "server", "POST /orders")
        has("gateway", "client", "orders.Orders/PlaceOrder")
        has("orders", "server", "orders.Orders/PlaceOrder")
        has("orders", "client", "inventory.Inventory/ReserveStock")
        has("inventory", "server", "inventory.Inventory/ReserveStock")
        has("inventory", "client", "reserve stock")
        has("orders", "client", "insert orders")
        has("orders", "producer", "send order.placed")
        has("fulfillment", "consumer", "process order.placed")
        has("inventory", "consumer", "process order.placed")
        has("fulfillment", "producer", "send shipment.dispatched")
        has("orders", "consumer", "process shipment.dispatched")
        has("orders", "client", "mark_shipped orders")
        // The OpenTelemetry attributes, status codes included (a normal end takes them in one
        // shared set; see SpanDetails.completed).
        func attributes(_ service: String, _ kind: String, _ name: String) -> [String: String] {
            spans.first { $0.service == service && $0.kind == kind && $0.name == name }?.attributes ?? [:]
        }
        let edge = attributes("gateway", "server", "POST /orders")
        #expect(edge["http.request.method"] == "POST")
        #expect(edge["http.route"] == "/orders")
        #expect(edge["http.response.status_code"] == "201")
        #expect(edge["url.path"] == "/orders")
        for (service, kind) in [("gateway", "client"), ("orders", "server")] {
            let call = attributes(service, kind, "orders.Orders/PlaceOrder")
            #expect(call["rpc.system"] == "grpc", "\(service) \(kind)")
            #expect(call["rpc.service"] == "orders.Orders", "\(service) \(kind)")
            #expect(call["rpc.method"] == "PlaceOrder", "\(service) \(kind)")
            #expect(call["rpc.grpc.status_code"] == "0", "\(service) \(kind)")
        }

        // A failed lookup's spans carry its own status codes, not the normal end's.
        let missingTrace = try #require(missing.headers.first(name: "traceresponse")?.split(separator: "-").dropFirst().first.map(String.init))
        let failed = try await eventually("the failed lookup's spans") { () -> [RecordedSpan]? in
            let response = try await http.get("/debug/traces/\(missingTrace)")
            guard response.status == 200 else { return nil }
            let spans = try JSONDecoder().decode([RecordedSpan].self, from: Data(response.body.utf8))
            return spans.count >= 3 ? spans : nil
        }
        let failedEdge = failed.first { $0.service == "gateway" && $0.kind == "server" }?.attributes ?? [:]
        #expect(failedEdge["http.route"] == "/orders")
        #expect(failedEdge["http.response.status_code"] == "404")
        for (service, kind) in [("gateway", "client"), ("orders", "server")] {
            let call = failed.first { $0.service == service && $0.kind == kind && $0.name == "orders.Orders/GetOrder" }?.attributes ?? [:]
            #expect(call["rpc.method"] == "GetOrder", "\(service) \(kind)")
            #expect(call["rpc.grpc.status_code"] == "5", "NOT_FOUND, \(service) \(kind)")
        }

        // One tree: a single root (the gateway's server span), every other span under a parent
        // of the same trace.
        let ids = Set(spans.map(\.spanID))
        let roots = spans.filter { $0.parentSpanID.map { !ids.contains($0) } ?? true }
        #expect(roots.map(\.name) == ["POST /orders"], "roots: \(roots.map(\.name))")
        #expect(spans.filter { $0.attributes[RecentTraceStore.subjectAttribute] == orderID }.count >= 5)

        // `switchyard trace <order-id>` prints the same tree.
        let trace = try ManagedProcess(name: "switchyard trace", executable: PackagePaths.switchyardBinary, arguments: ["trace", orderID, "--from", gatewayURL])
        #expect(try await trace.waitForExit(timeout: .seconds(60)) == 0, "\(trace.standardError)")
        let tree = trace.standardOutput
        #expect(tree.contains("trace \(traceID)"))
        for line in ["process shipment.dispatched", "send order.placed", "inventory.Inventory/ReserveStock"] {
            #expect(tree.contains(line), "the tree lacks \(line):\n\(tree)")
        }

        // Log lines made while handling the order carry its trace, their span and service.
        let line = try await eventually("fulfillment's log line") { () -> [String: Any]? in
            dev.standardError.split(separator: "\n").lazy
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .first { ($0["message"] as? String) == "Fulfilling order \(orderID) for customer c-trace" }
        }
        #expect(line["trace_id"] as? String == traceID)
        #expect((line["span_id"] as? String)?.count == 16)
        #expect(line["service"] as? String == "fulfillment")
        #expect(spans.contains { $0.spanID == line["span_id"] as? String && $0.name == "process order.placed" })
        dev.send(signal: SIGTERM)
        #expect(try await dev.waitForExit(timeout: .seconds(60)) == 0)
    }

    @Test("/metrics parses as Prometheus text, and its counters and gauges move as expected")
    func metricsMove() async throws {
        let data = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-metrics")
        let dev = try ManagedProcess(
            name: "switchyard dev",
            executable: PackagePaths.switchyardBinary,
            arguments: [
                "dev", "--port", "0", "--inventory-port", "0", "--orders-port", "0", "--data-directory", data.path, "--log-level", "notice",
                "--set", "metrics.sampleIntervalMilliseconds=100",
            ]
        )
        defer { dev.stop() }
        let http = HTTPTestClient(baseURL: "http://127.0.0.1:\(try await dev.waitForListeningPort("gateway HTTP", timeout: .seconds(120)))")
        _ = try await eventually("the system to be ready", timeout: .seconds(120)) { try await http.get("/health/ready").status == 200 ? true : nil }
        func scrape() async throws -> [PrometheusSample] {
            let response = try await http.get("/metrics")
            #expect(response.status == 200)
            #expect(response.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            return try PrometheusExposition.parse(response.body)
        }
        let lookups = ["http_route": "/orders", "http_request_method": "GET", "http_response_status_code": "404"]
        let getOrder = ["rpc_service": "orders.Orders", "rpc_method": "GetOrder", "rpc_grpc_status_code": "5"]
        let before = try await scrape()

        for number in 0..<3 { #expect(try await http.get("/orders?id=ord_missing\(number)").status == 404) }
        let placed = try await http.placeOrder(key: "metrics-1", json: #"{"customerId": "c-m", "lines": [{"sku": "sku-2", "quantity": 1, "unitPriceCents": 100}]}"#)
        #expect(placed.status == 201)

        // Counters are exact: nothing else talks to this process.
        let after = try await eventually("the order's event to be handled") { () -> [PrometheusSample]? in
            let samples = try await scrape()
            let shipped = samples.value("messaging_process_duration_seconds_count", ["messaging_consumer_group_name": "orders", "messaging_destination_name": "shipment.dispatched"])
            return shipped >= 1 ? samples : nil
        }
        #expect(after.value("http_server_request_duration_seconds_count", lookups) - before.value("http_server_request_duration_seconds_count", lookups) == 3)
        #expect(after.value("http_server_request_duration_seconds_count", ["http_route": "/orders", "http_request_method": "POST", "http_response_status_code": "201"]) == 1)
        #expect(after.value("rpc_server_call_duration_seconds_count", getOrder) - before.value("rpc_server_call_duration_seconds_count", getOrder) == 3)
        #expect(after.value("rpc_client_call_duration_seconds_count", getOrder) - before.value("rpc_client_call_duration_seconds_count", getOrder) == 3)
        #expect(after.value("rpc_server_call_duration_seconds_count", ["rpc_method": "ReserveStock", "rpc_grpc_status_code": "0"]) == 1)
        for group in ["fulfillment", "inventory"] {
            #expect(after.value("messaging_process_duration_seconds_count", ["messaging_consumer_group_name": group, "messaging_destination_name": "order.placed"]) == 1)
        }
        // A histogram's buckets are cumulative and end at +Inf with the count.
        let buckets = after.filter { $0.name == "http_server_request_duration_seconds_bucket" && $0.labels["http_response_status_code"] == "404" }
        #expect(buckets.first { $0.labels["le"] == "+Inf" }?.value == after.value("http_server_request_duration_seconds_count", lookups))

        // Gauges: a poison order.placed, straight onto the shared bus file, is dead-lettered
        // by both of its groups at once; the lag and backlog return to zero.
        let (bus, _) = try EventBusConfiguration(path: data.appendingPathComponent("events.sqlite").path).openEmbedded(logger: .silent)
        try await bus.publish([EventEnvelope(type: "order.placed", source: "/test", subject: "ord_poison", payload: Array("not json".utf8))])
        let settled = try await eventually("the dead letters to show") { () -> [PrometheusSample]? in
            let samples = try await scrape()
            let letters = ["fulfillment", "inventory"].map { samples.value("switchyard_messaging_dead_letters", ["messaging_consumer_group_name": $0]) }
            let lags = ["fulfillment", "inventory"].map { samples.value("switchyard_messaging_consumer_lag", ["messaging_consumer_group_name": $0]) }
            return letters == [1, 1] && lags == [0, 0] ? samples : nil
        }
        #expect(settled.value("switchyard_outbox_backlog", ["service_name": "orders"]) == 0)
        #expect(settled.value("switchyard_inventory_reservations_outstanding") == 0, "the placed order's reservation was confirmed")
        dev.send(signal: SIGTERM)
        #expect(try await dev.waitForExit(timeout: .seconds(60)) == 0)
    }

    @Test("A service run on its own answers /metrics and /debug/traces on its telemetry listener")
    func serveProcessTelemetry() async throws {
        let data = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-inventory-telemetry")
        let (inventory, port) = try await SystemHarness.startInventory(dataDirectory: data)
        defer { inventory.stop() }
        let telemetryPort = try await inventory.waitForListeningPort("inventory telemetry")
        let stock = try await withLoopbackGRPCClient(port: port) { grpc in
            try await Inventory_Inventory.Client(wrapping: grpc).getStock(.with { $0.sku = "sku-1" })
        }
        #expect(stock.quantity == 42)
        let http = HTTPTestClient(baseURL: "http://127.0.0.1:\(telemetryPort)")
        let samples = try PrometheusExposition.parse(try await http.get("/metrics").body)
        #expect(samples.value("rpc_server_call_duration_seconds_count", ["rpc_service": "inventory.Inventory", "rpc_method": "GetStock", "rpc_grpc_status_code": "0"]) == 1)
        let missing = try await http.get("/debug/traces/0123456789abcdef0123456789abcdef")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "NOT_FOUND")
    }
}

/// The request bodies a stand-in OTLP/HTTP collector received on `/v1/traces`.
private final class CollectedExports: Sendable {
    private let bodies = Mutex<[[UInt8]]>([])
    private let port = Mutex<Int?>(nil)

    func append(_ body: [UInt8]) { bodies.withLock { $0.append(body) } }
    var all: [[UInt8]] { bodies.withLock { $0 } }
    func listening(on port: Int?) { self.port.withLock { $0 = port } }
    var listeningPort: Int? { port.withLock { $0 } }
}

@Suite("OTLP export")
struct OTLPExportTests {
    @Test("With --otlp-endpoint, a service's spans go to the OTLP/HTTP collector, named after the method and the service")
    func spansReachTheCollector() async throws {
        let exports = CollectedExports()
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 32 << 20)
            exports.append(Array(body.readableBytesView))
            // An empty ExportTraceServiceResponse: everything accepted.
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        let collector = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { exports.listening(on: $0.localAddress?.port) },
            logger: .silent
        )
        try await withRunningServices([collector]) { _ in
            let collectorPort = try await eventually("the collector to listen") { exports.listeningPort }
            let data = try PackagePaths.makeTemporaryDirectory(prefix: "switchyard-otlp")
            let (inventory, port) = try await SystemHarness.startInventory(dataDirectory: data, extraArguments: ["--otlp-endpoint", "http://127.0.0.1:\(collectorPort)"])
            defer { inventory.stop() }
            _ = try await withLoopbackGRPCClient(port: port) { grpc in
                try await Inventory_Inventory.Client(wrapping: grpc).getStock(.with { $0.sku = "sku-1" })
            }
            // The batch processor exports within its schedule delay (500 ms).
            _ = try await eventually("the GetStock span to be exported", timeout: .seconds(60)) {
                exports.all.contains { $0.contains(subsequence: Array("inventory.Inventory/GetStock".utf8)) } ? true : nil
            }
            let exported = exports.all.joined()
            #expect(Array(exported).contains(subsequence: Array("inventory".utf8)))
            // Spans go to the collector, not into memory: nothing to serve on /debug/traces.
            let telemetryPort = try await inventory.waitForListeningPort("inventory telemetry")
            let traces = try await HTTPTestClient(baseURL: "http://127.0.0.1:\(telemetryPort)").get("/debug/traces/0123456789abcdef0123456789abcdef")
            #expect(traces.errorCode == "TRACES_NOT_KEPT")
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= count else { return subsequence.isEmpty }
        return (0...(count - subsequence.count)).contains { start in self[start..<(start + subsequence.count)].elementsEqual(subsequence) }
    }
}
