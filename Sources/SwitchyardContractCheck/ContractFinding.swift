/// One reason the contracts do not pass: which rule, what it is about, and why. Tests and the
/// CLI print findings the same way (`description`), one line each.
package struct ContractFinding: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The rule that rejected the contract.
    package var rule: ContractRule
    /// What was rejected: an event type (`order.placed`), a field in one
    /// (`order.placed#/properties/notifyWarehouse`), or a proto symbol (`inventory.Inventory.GetStock`).
    package var subject: String
    /// What is wrong and, where it helps, what to do instead.
    package var message: String

    /// - Parameters:
    ///   - rule: The rule that rejected the contract.
    ///   - subject: The event type, schema location or proto symbol concerned.
    ///   - message: One sentence for the person who has to fix it.
    package init(rule: ContractRule, subject: String, message: String) {
        self.rule = rule
        self.subject = subject
        self.message = message
    }

    /// `[rule] subject: message`.
    package var description: String { "[\(rule.rawValue)] \(subject): \(message)" }

    package static func < (lhs: ContractFinding, rhs: ContractFinding) -> Bool {
        (lhs.subject, lhs.rule.rawValue, lhs.message) < (rhs.subject, rhs.rule.rawValue, rhs.message)
    }
}

/// The rules `switchyard lint contracts` applies. The raw value is how findings name them.
package enum ContractRule: String, Sendable, Hashable, CaseIterable {
    /// Every catalogued event type has a schema file and every schema file a catalogued type.
    case eventCatalogue = "event-catalogue"
    /// An event type is named `<entity>.<past participle>`.
    case eventName = "event-name"
    /// No field of an event is a command in disguise (`notifyWarehouse`, `action`, …).
    case commandField = "command-field"
    /// Every event has a required `occurredAt` date-time string.
    case occurredAt = "occurred-at"
    /// A schema is readable and uses only what the checker understands.
    case schema = "schema"
    /// The catalogue's example of an event validates against its schema.
    case example = "example"
    /// A schema stays compatible with its committed snapshot.
    case eventCompatibility = "event-compatibility"
    /// The protobuf contracts stay compatible with their committed snapshot.
    case protoCompatibility = "proto-compatibility"
    /// A snapshot that the compatibility rules need is missing or unreadable.
    case snapshot = "snapshot"

    /// Whether a finding of this rule is a breaking change that `--allow-breaking` may accept
    /// when snapshots are updated. Every other rule must pass before a snapshot is written.
    package var isCompatibility: Bool {
        self == .eventCompatibility || self == .protoCompatibility
    }
}
