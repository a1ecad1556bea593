import Foundation

/// Prints spans as one tree per trace: each span under its parent, siblings by start time,
/// with the service that made it, when it started relative to the trace, and how long it took.
///
/// ```
/// trace 4bf92f3577b34da6a3ce929d0e0e4736  16 spans, 26.906 ms
/// +0.000 ms    25.357 ms   gateway      server    /orders  http.response.status_code=201
/// +1.265 ms    12.621 ms   gateway      client    └ orders.Orders/PlaceOrder  rpc.grpc.status_code=0
/// ```
package enum TraceTreeRenderer {
    /// Attributes worth a place on a span's line; the rest stay in the JSON.
    static let shownAttributes = [
        "http.response.status_code", "rpc.grpc.status_code", "messaging.consumer.group.name",
        "messaging.message.id", RecentTraceStore.subjectAttribute, "db.operation.name",
    ]

    package static func render(_ spans: [RecordedSpan]) -> String {
        let traces = Dictionary(grouping: spans, by: \.traceID)
            .sorted { ($0.value.map(\.startNanoseconds).min() ?? 0) < ($1.value.map(\.startNanoseconds).min() ?? 0) }
        var lines: [String] = []
        for (traceID, traceSpans) in traces {
            let unique = Dictionary(traceSpans.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            let start = traceSpans.map(\.startNanoseconds).min() ?? 0
            let end = traceSpans.map(\.endNanoseconds).max() ?? start
            lines.append("trace \(traceID)  \(unique.count) spans, \(milliseconds(end &- start)) ms")
            var children: [String: [RecordedSpan]] = [:]
            var roots: [RecordedSpan] = []
            for span in unique.values {
                if let parent = span.parentSpanID, unique[parent] != nil {
                    children[parent, default: []].append(span)
                } else {
                    roots.append(span)
                }
            }
            func visit(_ span: RecordedSpan, depth: Int) {
                let offset = "+\(milliseconds(span.startNanoseconds &- min(start, span.startNanoseconds))) ms"
                let duration = "\(milliseconds(span.endNanoseconds &- min(span.startNanoseconds, span.endNanoseconds))) ms"
                let indent = String(repeating: "  ", count: depth) + (depth > 0 ? "└ " : "")
                let details = shownAttributes.compactMap { key in span.attributes[key].map { "\(key)=\($0)" } }
                    + (span.error.map { ["error=\($0)"] } ?? [])
                lines.append(
                    [pad(offset, 12), pad(duration, 11), pad(span.service ?? "-", 12), pad(span.kind, 9), indent + span.name]
                        .joined(separator: " ") + (details.isEmpty ? "" : "  " + details.joined(separator: " "))
                )
                for child in (children[span.spanID] ?? []).sorted(by: { $0.startNanoseconds < $1.startNanoseconds }) {
                    visit(child, depth: depth + 1)
                }
            }
            for root in roots.sorted(by: { $0.startNanoseconds < $1.startNanoseconds }) {
                visit(root, depth: 0)
            }
        }
        return lines.joined(separator: "\n")
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.3f", Double(nanoseconds) / 1_000_000)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
