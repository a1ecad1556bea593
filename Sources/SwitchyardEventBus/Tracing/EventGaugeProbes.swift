package import SwitchyardRuntime

/// The gauges of the event side of a service, sampled by `GaugeSamplingService`.
package enum EventGaugeProbes {
    /// `switchyard.messaging.consumer.lag` per topic (events `group` has not settled) and
    /// `switchyard.messaging.dead_letters` (events `group` gave up on, not yet replayed).
    package static func consumer(bus: any EventBus, group: String, topics: [String]) -> [GaugeProbe] {
        topics.map { topic in
            GaugeProbe(
                label: "switchyard.messaging.consumer.lag",
                dimensions: [("messaging.consumer.group.name", group), ("messaging.destination.name", topic)]
            ) { try await bus.lag(group: group, topic: topic) }
        } + [
            GaugeProbe(label: "switchyard.messaging.dead_letters", dimensions: [("messaging.consumer.group.name", group)]) {
                try await bus.deadLetters(limit: 1_000_000).lazy.filter { $0.group == group }.count
            }
        ]
    }

    /// `switchyard.outbox.backlog`: events `service` stored that the relay has not published.
    package static func outbox(_ store: any OutboxStore, service: String) -> GaugeProbe {
        GaugeProbe(label: "switchyard.outbox.backlog", dimensions: [("service.name", service)]) { try await store.backlog() }
    }
}
