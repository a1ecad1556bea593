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

    package init(system: String, collection: String) {
        self.system = system
        self.collection = collection
    }

    /// Runs `body` in a client span for `operation`.
    package func run<Result>(_ operation: String, _ body: () async throws -> Result) async throws -> Result {
        let span = InstrumentationSystem.tracer.startSpan("\(operation) \(collection)", context: InstrumentationContext.current ?? .topLevel, ofKind: .client)
        span.updateAttributes { attributes in
            attributes["db.system.name"] = system
            attributes["db.operation.name"] = operation
            attributes["db.collection.name"] = collection
        }
        do {
            let result = try await InstrumentationContext.$current.withValue(span.context) { try await body() }
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
