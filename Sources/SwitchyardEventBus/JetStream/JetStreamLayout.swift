/// Where the JetStream engine keeps each topic: which stream, which subjects, which durable
/// consumers. Pure naming, in one place, so the layout can be read (and tested) on its own.
///
/// - One stream per topic family (the topic's first token): `order.placed` and
///   `order.cancelled` live in stream `SWITCHYARD_ORDER`, subjects `order.>`.
/// - A topic is split into `partitions` subjects, `<topic>.<partition>`, chosen by a stable
///   hash of the event's subject (the order id).
/// - Each consumer group has one durable consumer per topic and partition, with at most one
///   delivery unacknowledged. That is how events of one subject reach a group in order even
///   with competing instances and retries: a failed event is NAKed with a delay and stays
///   pending, holding back its partition (and so every later event of its subject) until it
///   is handled or dead-lettered. Partitions keep the group's work parallel.
/// - Dead-letter topics (`<topic>.dead-letter`) live in their own stream,
///   `SWITCHYARD_DEAD_LETTERS`, subjects `dead-letter.>`, so listing them reads only them.
///
/// A namespace (`bus.nats.namespace`) prefixes every subject and stream, so several
/// deployments (or tests) can share one NATS server.
package struct JetStreamLayout: Sendable, Hashable {
    package var namespace: String
    package var partitions: Int

    package init(namespace: String = "", partitions: Int = 16) {
        self.namespace = Self.token(namespace)
        self.partitions = max(1, partitions)
    }

    private var subjectPrefix: String { namespace.isEmpty ? "" : "\(namespace)." }
    private var streamPrefix: String { namespace.isEmpty ? "SWITCHYARD" : "SWITCHYARD_\(namespace.uppercased())" }

    /// The partition of an event: stable across processes and restarts (FNV-1a), so a
    /// subject always lands on the same partition. Events without a subject count as one
    /// subject, so they too keep their publication order (as on the embedded log); the
    /// services' events all carry one (the order id), which is what spreads the work.
    package func partition(of envelope: EventEnvelope) -> Int {
        partition(forKey: envelope.subject ?? "")
    }

    package func partition(forKey key: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int(hash % UInt32(partitions))
    }

    /// The subject an event of `topic` in `partition` is published on.
    package func subject(topic: String, partition: Int) -> String {
        "\(topicSubjectRoot(topic)).\(partition)"
    }

    package func subject(for envelope: EventEnvelope) -> String {
        subject(topic: envelope.topic, partition: partition(of: envelope))
    }

    /// Every partition subject of `topic`: `<root>.*`.
    package func subjectWildcard(topic: String) -> String {
        "\(topicSubjectRoot(topic)).*"
    }

    /// The stream that holds `topic`.
    package func streamName(topic: String) -> String {
        isDeadLetter(topic) ? deadLetterStreamName : "\(streamPrefix)_\(Self.streamToken(family(of: topic)).uppercased())"
    }

    /// The subjects the stream of `topic` captures.
    package func streamSubjects(topic: String) -> [String] {
        isDeadLetter(topic) ? ["\(subjectPrefix)dead-letter.>"] : ["\(subjectPrefix)\(Self.token(family(of: topic))).>"]
    }

    package var deadLetterStreamName: String { "\(streamPrefix)_DEAD_LETTERS" }

    /// The durable consumer of `group` for one partition of `topic`.
    package func durableName(group: String, topic: String, partition: Int) -> String {
        "\(Self.streamToken(group))_\(Self.streamToken(topic))_\(partition)"
    }

    private func isDeadLetter(_ topic: String) -> Bool {
        topic.hasSuffix(".dead-letter")
    }

    private func family(of topic: String) -> String {
        String(topic.split(separator: ".", omittingEmptySubsequences: true).first ?? "events")
    }

    /// `order.placed` → `order.placed`; `order.placed.dead-letter` → `dead-letter.order.placed`,
    /// with the namespace in front; characters a subject cannot hold become `_`.
    private func topicSubjectRoot(_ topic: String) -> String {
        let tokens = topic.split(separator: ".", omittingEmptySubsequences: true).map { Self.token(String($0)) }
        if isDeadLetter(topic) {
            return subjectPrefix + (["dead-letter"] + tokens.dropLast()).joined(separator: ".")
        }
        return subjectPrefix + (tokens.isEmpty ? ["events"] : tokens).joined(separator: ".")
    }

    /// A subject token: no whitespace, wildcards or dots.
    private static func token(_ text: String) -> String {
        String(text.map { $0.isWhitespace || $0 == "*" || $0 == ">" || $0 == "." ? "_" : $0 })
    }

    /// A stream or consumer name: letters, digits, `-` and `_` only.
    private static func streamToken(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }
}
