package import Logging
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
        try await bus.consume(group: group, topics: topics, options: options) { event in
            do {
                try await handler(event)
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
}
