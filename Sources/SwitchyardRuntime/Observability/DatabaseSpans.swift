import Instrumentation
import Tracing

/// Spans for a repository's work on its database, named `<operation> <collection>`
/// (`insert orders`) with the OpenTelemetry database attributes. One span per repository
/// call: a call is one transaction, which is the unit an operator reasons about.
package struct DatabaseSpans: Sendable {
    /// `sqlite` or `postgresql` (`db.system.name`).
    package let system: String
    /// The table family the repository owns (`orders`, `stock`, `shipments`).
    package let collection: String
    private let spans: SpanStarter
    /// False when tracing is off: then no span is started at all, not even a no-op one with
    /// a name built for nothing.
    private let tracing: Bool
    /// Each operation's span name (`insert orders`) and `db.*` attributes.
    private let operations: SpanDetailsCache<String>

    package init(system: String, collection: String) {
        self.system = system
        self.collection = collection
        self.spans = SpanStarter()
        self.tracing = !spans.isOff
        self.operations = SpanDetailsCache { operation in
            SpanDetails(
                spanName: "\(operation) \(collection)",
                attributes: SharedSpanAttributes([
                    "db.system.name": .string(system), "db.operation.name": .string(operation), "db.collection.name": .string(collection),
                ])
            )
        }
    }

    /// Runs `body` in a client span for `operation`, when it is part of a request or an event:
    /// background work (the expiry sweep) would otherwise start a trace of its own every few
    /// seconds and crowd out the traces someone wants to read.
    package func run<Result>(_ operation: String, _ body: () async throws -> Result) async throws -> Result {
        guard tracing, let parent = InstrumentationContext.current else { return try await body() }
        let details = operations.details(of: operation)
        let span = spans.start(details.spanName, context: parent, ofKind: .client)
        if span.isRecording { span.setAttributes(details.attributes) }
        // Not made current: nothing inside a repository call starts spans of its own, and a
        // task-local binding per database call is a cost worth not paying.
        do {
            let result = try await body()
            span.end()
            return result
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: "\(error)"))
            span.end()
            throw error
        }
    }
}
