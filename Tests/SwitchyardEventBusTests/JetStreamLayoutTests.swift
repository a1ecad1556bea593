import SwitchyardEventBus
import Testing

@Suite("JetStream layout: streams, partition subjects, durable names")
struct JetStreamLayoutTests {
    let layout = JetStreamLayout(partitions: 16)

    @Test("A topic family is one stream; its partitions are subjects under the topic")
    func streamsAndSubjects() {
        #expect(layout.streamName(topic: "order.placed") == "SWITCHYARD_ORDER")
        #expect(layout.streamSubjects(topic: "order.placed") == ["order.>"])
        #expect(layout.subject(topic: "order.placed", partition: 3) == "order.placed.3")
        #expect(layout.subjectWildcard(topic: "shipment.dispatched") == "shipment.dispatched.*")
        #expect(layout.durableName(group: "fulfillment", topic: "order.placed", partition: 3) == "fulfillment_order-placed_3")
    }

    @Test("Dead-letter topics live in their own stream, outside every family's subjects")
    func deadLetters() {
        #expect(layout.streamName(topic: "order.placed.dead-letter") == "SWITCHYARD_DEAD_LETTERS")
        #expect(layout.streamSubjects(topic: "order.placed.dead-letter") == ["dead-letter.>"])
        #expect(layout.subject(topic: "order.placed.dead-letter", partition: 0) == "dead-letter.order.placed.0")
    }

    @Test("A namespace prefixes every subject and stream")
    func namespace() {
        let spaced = JetStreamLayout(namespace: "staging", partitions: 4)
        #expect(spaced.streamName(topic: "order.placed") == "SWITCHYARD_STAGING_ORDER")
        #expect(spaced.streamSubjects(topic: "order.placed") == ["staging.order.>"])
        #expect(spaced.subject(topic: "order.placed", partition: 1) == "staging.order.placed.1")
        #expect(spaced.streamSubjects(topic: "order.placed.dead-letter") == ["staging.dead-letter.>"])
    }

    @Test("The partition is a stable function of the event's subject, spread over every partition")
    func partitions() {
        let event = EventEnvelope(id: "a", type: "order.placed", source: "/t", subject: "ord_1", payload: [])
        let again = EventEnvelope(id: "b", type: "order.placed", source: "/t", subject: "ord_1", payload: [])
        #expect(layout.partition(of: event) == layout.partition(of: again))
        // FNV-1a of "ord_1": fixed, so processes (and restarts) agree.
        #expect(layout.partition(of: event) == layout.partition(forKey: "ord_1"))
        let used = Set((0..<1000).map { layout.partition(forKey: "ord_\($0)") })
        #expect(used == Set(0..<16))
        // No subject: one shared partition, so such events keep their order.
        let unkeyed = (0..<10).map { EventEnvelope(id: "e\($0)", type: "order.placed", source: "/t", payload: []) }
        #expect(Set(unkeyed.map { layout.partition(of: $0) }).count == 1)
    }

    @Test("Names a subject or stream cannot hold are made safe")
    func unsafeNames() {
        #expect(layout.durableName(group: "my group.v2", topic: "order.placed", partition: 0) == "my-group-v2_order-placed_0")
        #expect(layout.subject(topic: "order.pla ced", partition: 0) == "order.pla_ced.0")
    }
}
