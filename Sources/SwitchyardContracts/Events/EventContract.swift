package import Foundation

/// An event type: a fact that already happened, named `<entity>.<past participle>`, whose JSON
/// body is exactly its `Codable` fields. Every type is declared in `EventCatalog`, with a
/// committed JSON Schema in `Contracts/events/<type>.schema.json` that `switchyard lint
/// contracts` holds it to.
package protocol EventContract: Codable, Sendable, Equatable {
    /// The CloudEvents type and the topic, e.g. `order.placed`.
    static var type: String { get }
    /// When the fact happened, RFC 3339.
    var occurredAt: String { get }
}

extension EventContract {
    /// The event's JSON body, keys sorted (stable bytes for the same event).
    package func encodedPayload() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Decodes a body; throws `EventDecodingError` naming the type when it does not match.
    package static func decode(_ payload: [UInt8]) throws -> Self {
        do {
            return try JSONDecoder().decode(Self.self, from: Data(payload))
        } catch {
            throw EventDecodingError(type: type, reason: "\(error)")
        }
    }
}

/// A body that is not the event its type says it is (a poison message).
package struct EventDecodingError: Error, CustomStringConvertible, Sendable {
    package var type: String
    package var reason: String
    package var description: String { "undecodable \(type) event: \(reason)" }
}

/// Times as the contracts write them: RFC 3339, UTC, milliseconds.
///
/// The milliseconds are those of the time rounded to the nearest millisecond, as services store
/// times (`unixMilliseconds`), and written from the integer: Foundation's fractional-seconds
/// style truncates the binary fraction, so `x.001` s (stored as 1.00099…) printed as `.000`,
/// and an event's `occurredAt` and the order's `createdAt` disagreed by a millisecond.
package enum EventTime {
    package static func string(_ date: Date) -> String {
        string(unixMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    package static func string(unixMilliseconds: Int64) -> String {
        let (seconds, millis) = unixMilliseconds.quotientAndRemainder(dividingBy: 1000)
        let wholeSeconds = millis < 0 ? seconds - 1 : seconds
        let fraction = millis < 0 ? millis + 1000 : millis
        let stamp = Date(timeIntervalSince1970: TimeInterval(wholeSeconds)).formatted(Date.ISO8601FormatStyle())
        let digits = String(fraction)
        return "\(stamp.dropLast()).\(String(repeating: "0", count: 3 - digits.count))\(digits)Z"
    }
}
