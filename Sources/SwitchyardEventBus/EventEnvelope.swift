package import Foundation
import SwitchyardContracts

/// One event as the bus carries it: CloudEvents 1.0 in binary mode. The body (`payload`) is
/// exactly the event's JSON, e.g. `{"orderId", "customerId", "totalCents", "occurredAt"}` for
/// `order.placed`; everything else travels beside it as attributes and headers.
package struct EventEnvelope: Sendable, Hashable {
    /// `ce-id`: unique per event. Consumers are idempotent by it (their inbox).
    package var id: String
    /// `ce-type` and the topic: a past-tense fact such as `order.placed`.
    package var type: String
    /// `ce-source`: who emitted it, e.g. `/switchyard/orders`.
    package var source: String
    /// `ce-time`.
    package var time: Date
    /// `ce-subject`: the entity the event is about (the order id); the bus keeps events with
    /// the same subject in order for each consumer group.
    package var subject: String?
    /// The event's JSON.
    package var payload: [UInt8]
    /// Other headers: `traceparent`, `tracestate`, correlation ids, dead-letter details.
    package var extensions: [String: String]

    package init(
        id: String = UUID().uuidString.lowercased(),
        type: String,
        source: String,
        time: Date = Date(),
        subject: String? = nil,
        payload: [UInt8],
        extensions: [String: String] = [:]
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.time = time
        self.subject = subject
        self.payload = payload
        self.extensions = extensions
    }

    /// The topic is the type: one topic per kind of fact.
    package var topic: String { type }
}

extension EventEnvelope {
    /// The CloudEvents binary-mode headers for transports that carry headers (NATS, Kafka,
    /// HTTP): `ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-time`, `ce-subject`,
    /// `content-type`, then the extensions as they are (`traceparent`, …).
    package var headers: [String: String] {
        var headers = extensions
        headers["ce-specversion"] = "1.0"
        headers["ce-id"] = id
        headers["ce-source"] = source
        headers["ce-type"] = type
        headers["ce-time"] = EventTime.string(time)
        if let subject { headers["ce-subject"] = subject }
        headers["content-type"] = "application/json"
        return headers
    }

    /// Rebuilds an envelope from binary-mode headers and a body.
    /// - Throws: `EventEnvelopeError.missingAttribute` when a required attribute is absent.
    package init(headers: [String: String], payload: [UInt8]) throws(EventEnvelopeError) {
        guard let id = headers["ce-id"] else { throw .missingAttribute("ce-id") }
        guard let type = headers["ce-type"] else { throw .missingAttribute("ce-type") }
        guard let source = headers["ce-source"] else { throw .missingAttribute("ce-source") }
        let time = headers["ce-time"].flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
            ?? headers["ce-time"].flatMap { try? Date($0, strategy: .iso8601) }
            ?? Date(timeIntervalSince1970: 0)
        var extensions = headers
        for attribute in ["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject", "content-type"] {
            extensions[attribute] = nil
        }
        self.init(id: id, type: type, source: source, time: time, subject: headers["ce-subject"], payload: payload, extensions: extensions)
    }
}

package enum EventEnvelopeError: Error, Hashable, CustomStringConvertible {
    case missingAttribute(String)

    package var description: String {
        switch self {
        case .missingAttribute(let name): "the event has no \(name)"
        }
    }
}
