package import Logging
import SwitchyardStorage
import Instrumentation
import Tracing
import ServiceLifecycle

/// One consumer-group instance as a `Service`: delivers the group's topics to its handler for
/// as long as the process runs. Graceful shutdown lets the batch in hand finish and be
/// acknowledged; events claimed but not reached are delivered again later.
package struct EventConsumerService: Service {
    package let bus: any EventBus
    package let group: String
    package let topics: [String]
    package let options: ConsumerOptions
    package let logger: Logger
    package let handler: EventHandler

    package init(bus: any EventBus, group: String, topics: [String], options: ConsumerOptions = ConsumerOptions(), logger: Logger, handler: @escaping EventHandler) {
        self.bus = bus
        self.group = group
        self.topics = topics
        self.options = options
        self.logger = logger
        self.handler = handler
    }

    package func run() async throws {
        let logger = self.logger
        let group = self.group
        let handler = self.handler
        let patience = options.ackTimeout / 2
        let system = bus.messagingSystem
        let metrics = ConsumerMetrics(group: group, system: system)
        let tracer = InstrumentationSystem.tracer
        try await bus.consume(group: group, topics: topics, options: options) { event in
            do {
                // Each delivery in a consumer span under the trace the event carries, so the
                // handler's work (and the events it stores) joins the trace by itself.
                try await EventTracing.process(event, group: group, system: system, tracer: tracer, metrics: metrics) {
                    try await Self.waitingOutDatabaseOutage(patience: patience, logger: logger) { try await handler(event) }
                }
            } catch {
                logger.warning(
                    "event handler failed; the event will be delivered again",
                    metadata: [
                        "switchyard.event.id": "\(event.envelope.id)", "switchyard.event.type": "\(event.envelope.type)",
                        "switchyard.consumer.group": "\(group)", "switchyard.event.attempt": "\(event.attempt)",
                        "switchyard.error": "\(error)",
                    ]
                )
                throw error
            }
        }
    }

    /// Runs `body`, and while it fails because the service's own database is unavailable,
    /// runs it again with backoff, for up to `patience` (half the ack timeout, so the
    /// delivery is not handed to another instance meanwhile). An outage is not the event's
    /// fault: throwing at once would spend the event's attempts in a second and dead-letter
    /// it, where waiting lets it apply as soon as the database is back.
    static func waitingOutDatabaseOutage(patience: Duration, logger: Logger, _ body: () async throws -> Void) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: patience)
        var wait = Duration.milliseconds(100)
        while true {
            do {
                return try await body()
            } catch let error as DatabaseUnavailableError where clock.now.advanced(by: wait) < deadline {
                logger.debug("database unavailable; holding the delivery and retrying", metadata: ["switchyard.error": "\(error)"])
                try await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(2))
            }
        }
    }
}
