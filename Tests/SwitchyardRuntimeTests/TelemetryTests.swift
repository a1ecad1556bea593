import Foundation
import GRPCCore
import Instrumentation
import Logging
import Synchronization
import SwitchyardRuntime
import Testing
import Tracing
import W3CTraceContext

@Suite("Telemetry: the in-memory tracer, its store, the trace tree, Prometheus names, log correlation")
struct TelemetryTests {
    private func tracer(capacity: Int = 100) -> (RecentTracesTracer, RecentTraceStore) {
        let store = RecentTraceStore(capacity: capacity)
        return (RecentTracesTracer(store: store), store)
    }

    @Test("A child span keeps its parent's trace; a W3C traceparent round-trips through inject and extract")
    func propagation() throws {
        let (tracer, store) = tracer()
        var parentContext = InstrumentationContext.topLevel
        parentContext.serviceName = "gateway"
        let parent = tracer.startSpan("parent", context: parentContext, ofKind: .server)
        var headers: [String: String] = [:]
        tracer.inject(parent.context, into: &headers, using: DictionaryInjector())
        let traceparent = try #require(headers["traceparent"])
        #expect(traceparent.hasPrefix("00-") && traceparent.hasSuffix("-01") && traceparent.count == 55)

        // The other side of the wire: a new context extracted from the headers.
        var remote = InstrumentationContext.topLevel
        remote.serviceName = "orders"
        tracer.extract(headers, into: &remote, using: DictionaryExtractor())
        let child = tracer.startSpan("child", context: remote, ofKind: .server)
        child.end()
        parent.end()
        let spans = store.allSpans
        let recordedChild = try #require(spans.first { $0.name == "child" })
        let recordedParent = try #require(spans.first { $0.name == "parent" })
        #expect(recordedChild.traceID == recordedParent.traceID)
        #expect(recordedChild.parentSpanID == recordedParent.spanID)
        #expect(recordedParent.parentSpanID == nil)
        #expect(recordedChild.service == "orders")
        #expect(recordedParent.service == "gateway")
        #expect(recordedChild.kind == "server")
    }

    @Test("A malformed traceparent starts a new trace instead of failing", arguments: [
        "garbage", "00-00000000000000000000000000000000-0000000000000000-01", "01-zz-yy-00", "",
        // A zero span id, upper-case hex, another version, a wrong delimiter, one digit short or
        // over, non-hex flags.
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
    ])
    func malformedTraceparent(header: String) {
        let (tracer, store) = tracer()
        var context = InstrumentationContext.topLevel
        tracer.extract(["traceparent": header], into: &context, using: DictionaryExtractor())
        #expect(context.traceContext == nil)
        tracer.startSpan("fresh", context: context, ofKind: .server).end()
        #expect(store.allSpans.first?.parentSpanID == nil)
    }

    @Test("Our traceparent reader and writer agree with W3CTraceContext's, byte for byte")
    func traceparentCodec() throws {
        for _ in 0..<200 {
            let reference = TraceContext(traceID: .random(), spanID: .random(), flags: .sampled, state: TraceState())
            let identity = SpanIdentity(traceID: reference.traceID, spanID: reference.spanID)
            #expect(TraceParent.format(identity) == reference.traceParentHeaderValue)
            #expect(TraceParent.parse(reference.traceParentHeaderValue) == identity)
        }
        // The example of the W3C recommendation; an unsampled caller's flags are accepted too.
        let example = try #require(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        #expect("\(example.traceID)" == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect("\(example.spanID)" == "00f067aa0ba902b7")
    }

    @Test("A caller's tracestate travels on unchanged to the calls a span makes")
    func tracestate() throws {
        let (tracer, _) = tracer()
        var remote = InstrumentationContext.topLevel
        tracer.extract(
            ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7"],
            into: &remote, using: DictionaryExtractor()
        )
        let span = tracer.startSpan("call", context: remote, ofKind: .client)
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: DictionaryInjector())
        #expect(headers["tracestate"] == "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")
        #expect(headers["traceparent"]?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") == true)
        #expect(headers["traceparent"]?.contains("00f067aa0ba902b7") == false)
    }

    @Test("A call's span started straight from its metadata is the one extract and startSpan make")
    func callSpanFromMetadata() throws {
        let (tracer, store) = tracer()
        let entryPoint = InstrumentationContext.entryPoint(of: "orders")
        #expect(entryPoint.spanIdentity == nil)
        var metadata: Metadata = [":path": "/orders.Orders/GetOrder", "user-agent": "test"]
        metadata.addBinary([1, 2, 3], forKey: "traceparent-bin")
        metadata.addString("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", forKey: "traceparent")
        metadata.addString("rojo=00f067aa0ba902b7", forKey: "tracestate")
        // Only the first of each counts, as `Metadata`'s own lookup would have it.
        metadata.addString("00-11111111111111111111111111111111-2222222222222222-01", forKey: "traceparent")
        metadata.addString("congo=t61rcWkgMzE", forKey: "tracestate")
        let headers = IncomingTraceHeaders(metadata)
        #expect(headers.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(headers.tracestate == "rojo=00f067aa0ba902b7")

        let fast = tracer.startSpan("orders.Orders/GetOrder", continuing: headers, from: entryPoint, ofKind: .server)
        var extracted = entryPoint
        tracer.extract(headers, into: &extracted, using: IncomingTraceHeadersExtractor())
        let reference = tracer.startSpan("orders.Orders/GetOrder", context: extracted, ofKind: .server)
        #expect(fast.context.traceContext?.traceID == reference.context.traceContext?.traceID)
        #expect(fast.context.traceState == reference.context.traceState)
        #expect(fast.context.serviceName == "orders")
        var injected: [String: String] = [:]
        tracer.inject(fast.context, into: &injected, using: DictionaryInjector())
        #expect(injected["tracestate"] == "rojo=00f067aa0ba902b7")
        fast.end()
        reference.end()
        let recorded = store.allSpans
        #expect(recorded.count == 2)
        #expect(Set(recorded.map(\.parentSpanID)) == ["00f067aa0ba902b7"])
        #expect(Set(recorded.map(\.traceID)) == ["4bf92f3577b34da6a3ce929d0e0e4736"])
        #expect(Set(recorded.map(\.service)) == ["orders"])

        // No headers, or a malformed one: a new trace, and no tracestate from nowhere.
        for metadata: Metadata in [[:], ["traceparent": "garbage", "tracestate": "rojo=1"]] {
            let span = tracer.startSpan("call", continuing: IncomingTraceHeaders(metadata), from: entryPoint, ofKind: .server)
            #expect(span.context.traceState == nil)
            span.end()
            #expect(store.allSpans.last?.parentSpanID == nil)
        }
    }

    @Test("An open span reads its attributes back as they were set, whatever their kind")
    func attributeKinds() {
        let (tracer, _) = tracer()
        let span = tracer.startSpan("kinds", context: .topLevel, ofKind: .internal)
        span.setAttributes(["text": "a", "number": 7, "flag": false, "ratio": 0.5, "list": .int64Array([1, 2])])
        span.setAttribute("number", 8)
        let attributes = span.attributes
        #expect(attributes.get("text") == .string("a"))
        #expect(attributes.get("number") == .int64(8))
        #expect(attributes.get("flag") == .bool(false))
        #expect(attributes.get("ratio") == .double(0.5))
        #expect(attributes.get("list") == .int64Array([1, 2]))
        span.end()
    }

    @Test("A span ends once; attributes and errors are recorded as text")
    func recording() throws {
        let (tracer, store) = tracer()
        let span = tracer.startSpan("work", context: .topLevel, ofKind: .client)
        span.attributes["rpc.grpc.status_code"] = 14
        span.attributes["switchyard.event.subject"] = "ord_1"
        span.setStatus(SpanStatus(code: .error, message: "UNAVAILABLE"))
        span.end()
        span.end()
        #expect(store.allSpans.count == 1)
        let recorded = try #require(store.allSpans.first)
        #expect(recorded.attributes["rpc.grpc.status_code"] == "14")
        #expect(recorded.error == "UNAVAILABLE")
        #expect(recorded.endNanoseconds >= recorded.startNanoseconds)
        #expect(!span.isRecording)
    }

    @Test("The store keeps the newest spans only, and finds traces by trace id or by event subject")
    func storeBoundsAndLookup() {
        let (tracer, store) = tracer(capacity: 10)
        for number in 0..<25 {
            let span = tracer.startSpan("span \(number)", context: .topLevel, ofKind: .internal)
            span.attributes[RecentTraceStore.subjectAttribute] = "ord_\(number % 5)"
            span.end()
        }
        let kept = store.allSpans
        #expect(kept.map(\.name) == (15..<25).map { "span \($0)" })
        #expect(Set(store.spans(matching: "ord_3").map(\.name)) == ["span 18", "span 23"])
        let one = kept[4]
        #expect(store.spans(matching: one.traceID).map(\.name) == [one.name])
        #expect(store.spans(matching: one.traceID.uppercased()).map(\.name) == [one.name])
        #expect(store.spans(matching: "ord_unknown").isEmpty)
    }

    @Test("Kept text is exact: numbers and flags as text, separators inside values turned into spaces")
    func keptText() throws {
        let (tracer, store) = tracer()
        let span = tracer.startSpan("odd \u{1E}name", context: .entryPoint(of: "orders"), ofKind: .server)
        span.attributes["negative"] = Int64(-42)
        span.attributes["smallest"] = Int64.min
        span.attributes["zero"] = Int32(0)
        span.attributes["flag"] = true
        span.attributes["odd\u{1F}key"] = "a\u{1E}b\u{1F}c"
        span.attributes["unicode"] = "Zürich ✓"
        span.end()
        let recorded = try #require(store.allSpans.first)
        #expect(recorded.name == "odd  name")
        #expect(recorded.service == "orders")
        #expect(recorded.error == nil)
        #expect(recorded.attributes == [
            "negative": "-42", "smallest": "\(Int64.min)", "zero": "0", "flag": "true", "odd key": "a b c", "unicode": "Zürich ✓",
        ])
    }

    @Test("Shared attributes are kept and read back like a span's own, exact to the byte; a span's own pair wins over a shared one")
    func sharedAttributes() throws {
        let (tracer, store) = tracer()
        let shared = SharedSpanAttributes(["rpc.system": "grpc", "odd\u{1F}key": "a\u{1E}b", "count": 3, "rpc.method": "Get"])
        let span = tracer.startSpan("call", context: .topLevel, ofKind: .client)
        span.setAttributes(shared)
        span.setAttribute("rpc.method", "Override")
        span.setAttribute("rpc.grpc.status_code", 0)
        #expect(span.attributes.get("rpc.system") == .string("grpc"))
        #expect(span.attributes.get("count") == .int64(3))
        #expect(span.attributes.get("rpc.method") == .string("Override"))
        span.end()
        // Another span with the same shared attributes, and one with none: nothing leaks between them.
        let second = tracer.startSpan("second", context: .topLevel, ofKind: .client)
        second.setAttributes(shared)
        second.end()
        let third = tracer.startSpan("third", context: .topLevel, ofKind: .client)
        third.end()
        let spans = store.allSpans
        #expect(spans.count == 3)
        #expect(spans[0].attributes == ["rpc.system": "grpc", "odd key": "a b", "count": "3", "rpc.method": "Override", "rpc.grpc.status_code": "0"])
        #expect(spans[1].attributes == ["rpc.system": "grpc", "odd key": "a b", "count": "3", "rpc.method": "Get"])
        #expect(spans[2].attributes.isEmpty)
    }

    @Test("Spans whose text newer spans overwrote are dropped whole, never returned torn; one huge span is cut, not lost")
    func textRingWraps() throws {
        // Ten records but text for only about four of these spans (the text ring has room for
        // 4,096 bytes at least): the records of the oldest outlive their text.
        let (tracer, store) = tracer(capacity: 10)
        let filler = String(repeating: "x", count: 1000)
        for number in 0..<10 {
            let span = tracer.startSpan("span \(number)", context: .topLevel, ofKind: .internal)
            span.attributes["filler"] = filler
            span.end()
        }
        let kept = store.allSpans
        #expect(kept.map(\.name) == (6..<10).map { "span \($0)" })
        #expect(kept.allSatisfy { $0.attributes["filler"] == filler })

        let huge = tracer.startSpan("huge", context: .topLevel, ofKind: .internal)
        huge.attributes["filler"] = String(repeating: "y", count: 10_000)
        huge.end()
        let cut = try #require(store.allSpans.last)
        #expect(cut.name == "huge")
        #expect((cut.attributes["filler"]?.count ?? 0) > 3000)
        #expect((cut.attributes["filler"]?.count ?? .max) < 4096)
    }

    @Test("The tree puts each span under its parent, siblings in start order, orphans at the root")
    func tree() {
        func span(_ id: String, parent: String?, start: UInt64, name: String) -> RecordedSpan {
            RecordedSpan(
                traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: id, parentSpanID: parent, name: name, kind: "server",
                service: "svc", startNanoseconds: start, endNanoseconds: start + 1_000_000, error: nil, attributes: [:]
            )
        }
        let text = TraceTreeRenderer.render([
            span("c", parent: "a", start: 3_000_000, name: "second child"),
            span("a", parent: nil, start: 1_000_000, name: "root"),
            span("b", parent: "a", start: 2_000_000, name: "first child"),
            span("d", parent: "b", start: 2_500_000, name: "grandchild"),
            span("e", parent: "missing", start: 5_000_000, name: "orphan"),
        ])
        let names = text.split(separator: "\n").dropFirst().map { line in
            String(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(6).joined(separator: " "))
        }
        #expect(names == ["root", "└ first child", "└ grandchild", "└ second child", "orphan"], "\(text)")
        #expect(text.hasPrefix("trace 4bf92f3577b34da6a3ce929d0e0e4736  5 spans, 5.000 ms"))
    }

    @Test("OpenTelemetry metric names become Prometheus names, durations in seconds", arguments: [
        ("http.server.request.duration", "http_server_request_duration_seconds"),
        ("rpc.client.call.duration", "rpc_client_call_duration_seconds"),
        ("switchyard.outbox.backlog", "switchyard_outbox_backlog"),
        ("http.server.active_requests", "http_server_active_requests"),
    ])
    func prometheusNames(otel: String, prometheus: String) {
        #expect(PrometheusNaming.metricName(otel) == prometheus)
    }

    @Test("A log line written inside a span carries service, trace_id and span_id; outside, none")
    func logCorrelation() throws {
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "switchyard.test") { label in
            JSONLogHandler(label: label, metadataProvider: TraceLogMetadata.provider) { line in lines.withLock { $0.append(line) } }
        }
        let (tracer, _) = tracer()
        let span = tracer.startSpan("work", context: .entryPoint(of: "fulfillment"), ofKind: .consumer)
        InstrumentationContext.$current.withValue(span.context) { logger.info("inside") }
        logger.info("outside")
        let objects = try lines.withLock { $0 }.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        let identity = try #require(span.context.traceContext)
        #expect(objects.first?["trace_id"] == "\(identity.traceID)")
        #expect(objects.first?["span_id"] == "\(identity.spanID)")
        #expect(objects.first?["service"] == "fulfillment")
        #expect(objects.last?["trace_id"] == nil)
        #expect(objects.last?["message"] == "outside")
    }
}
