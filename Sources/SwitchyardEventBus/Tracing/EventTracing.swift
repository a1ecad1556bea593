import Instrumentation
import Metrics
import Synchronization
import SwitchyardRuntime
package import Tracing

/// How a trace crosses the bus: the CloudEvents distributed-tracing extension (`traceparent`,
/// `tracestate` beside the `ce-` headers). A service's outbox stamps each event with the trace
/// that stored it; the relay publishes it in a producer span (`send order.placed`) that becomes
/// the event's parent; the consumer handles it in a consumer span (`process order.placed`)
/// under that one. Handlers forward nothing: whatever they store and call inside the consumer
/// span joins the trace.
package enum EventTracing {
    /// Publishes `events` through `bus`, each in its own producer span continuing the trace the
    /// event was stored with.
    ///
    /// - Parameters:
    ///   - events: What the outbox holds, stamped with their traces when stored.
    ///   - bus: Where they go.
    package static func publish(_ events: [EventEnvelope], to bus: any EventBus) async throws {
        let tracer = InstrumentationSystem.tracer
        var spans: [any Tracing.Span] = []
        spans.reserveCapacity(events.count)
        var traced = events
        for index in traced.indices {
            let event = traced[index]
            let parent = TraceHeaders.context(from: event.extensions, base: .entryPoint(of: serviceName(ofSource: event.source)))
            let span = tracer.startSpan("send \(event.topic)", context: parent, ofKind: .producer)
            if span.isRecording {
                span.setAttributes([
                    "messaging.system": .string(bus.messagingSystem), "messaging.operation.type": "send",
                    "messaging.destination.name": .string(event.topic), "messaging.message.id": .string(event.id),
                ])
                if let subject = event.subject { span.setAttribute(RecentTraceStore.subjectAttribute, .string(subject)) }
            }
            // The consumer's span hangs under this one: the event now carries the send span.
            for (key, value) in TraceHeaders.headers(of: span.context) { traced[index].extensions[key] = value }
            spans.append(span)
        }
        do {
            try await bus.publish(traced)
        } catch {
            for span in spans {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error, message: "\(error)"))
                span.end()
            }
            throw error
        }
        for span in spans { span.end() }
    }

    /// Runs `handler` on `event` in a consumer span of `group`'s service, continuing the trace
    /// the event carries.
    package static func process(
        _ event: DeliveredEvent,
        group: String,
        system: String,
        tracer: any Tracer,
        metrics: ConsumerMetrics,
        handler: () async throws -> Void
    ) async throws {
        let envelope = event.envelope
        var parent = InstrumentationContext.entryPoint(of: group)
        tracer.extract(envelope.extensions, into: &parent, using: DictionaryExtractor())
        let span = tracer.startSpan("process \(envelope.topic)", context: parent, ofKind: .consumer)
        if span.isRecording {
            span.setAttributes([
                "messaging.system": .string(system), "messaging.operation.type": "process",
                "messaging.destination.name": .string(envelope.topic), "messaging.consumer.group.name": .string(group),
                "messaging.message.id": .string(envelope.id), "switchyard.event.attempt": .int64(Int64(event.attempt)),
            ])
            if let subject = envelope.subject { span.setAttribute(RecentTraceStore.subjectAttribute, .string(subject)) }
        }
        let started = ContinuousClock.now
        do {
            try await InstrumentationContext.$current.withValue(span.context) { try await handler() }
            metrics.record(topic: envelope.topic, failed: false, elapsed: ContinuousClock.now - started)
            span.end()
        } catch {
            metrics.record(topic: envelope.topic, failed: true, elapsed: ContinuousClock.now - started)
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: "\(error)"))
            span.end()
            throw error
        }
    }

    /// `orders` for `/switchyard/orders`: the service an event's source names.
    static func serviceName(ofSource source: String) -> String {
        source.split(separator: "/").last.map(String.init) ?? source
    }
}

extension EventEnvelope {
    /// This event, carrying `trace` (W3C headers) unless it already carries one.
    package func carrying(trace: [String: String]) -> EventEnvelope {
        guard extensions[TraceHeaders.traceparent] == nil, !trace.isEmpty else { return self }
        var copy = self
        copy.extensions.merge(trace) { existing, _ in existing }
        return copy
    }
}

/// `messaging.process.duration` (seconds) per topic for one consumer group, failures marked
/// with `error.type`. Each series' `Timer` is made once.
package final class ConsumerMetrics: Sendable {
    private struct Series: Hashable {
        var topic: String
        var failed: Bool
    }

    private let group: String
    private let system: String
    private let timers = Mutex<[Series: Timer]>([:])

    package init(group: String, system: String) {
        self.group = group
        self.system = system
    }

    func record(topic: String, failed: Bool, elapsed: Duration) {
        let series = Series(topic: topic, failed: failed)
        let timer = timers.withLock { timers in
            if let timer = timers[series] { return timer }
            var dimensions = [("messaging.system", system), ("messaging.destination.name", topic), ("messaging.consumer.group.name", group)]
            if failed { dimensions.append(("error.type", "handler_failed")) }
            let timer = Timer(label: "messaging.process.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            timers[series] = timer
            return timer
        }
        timer.recordNanoseconds(elapsed.wholeNanoseconds)
    }
}
