/// A consumer's configuration, with the API's JSON names. Unset optionals take the server's
/// defaults (and are not sent).
package struct ConsumerConfig: Codable, Hashable, Sendable {
    package var durableName: String?
    package var name: String?
    package var description: String?
    package var deliverPolicy: DeliverPolicy
    package var optStartSequence: UInt64?
    package var ackPolicy: AckPolicy
    package var ackWait: Duration?
    /// Deliveries before a message is given up on (-1: unlimited).
    package var maxDeliver: Int?
    /// Redelivery delays per attempt (overrides `ackWait` for redeliveries).
    package var backoff: [Duration]?
    package var filterSubject: String?
    /// Several filters (nats-server 2.10+).
    package var filterSubjects: [String]?
    package var replayPolicy: ReplayPolicy
    /// Pull requests the server keeps waiting at once.
    package var maxWaiting: Int?
    package var maxAckPending: Int?
    /// A consumer without activity for this long is deleted (ephemeral consumers, or durables on 2.10+).
    package var inactiveThreshold: Duration?
    package var replicas: Int?
    package var memoryStorage: Bool?
    package var maxRequestBatch: Int?
    package var maxRequestExpires: Duration?
    package var metadata: [String: String]?

    package init(
        durableName: String?,
        deliverPolicy: DeliverPolicy = .all,
        ackPolicy: AckPolicy = .explicit,
        ackWait: Duration? = nil,
        maxDeliver: Int? = nil,
        backoff: [Duration]? = nil,
        filterSubject: String? = nil,
        maxWaiting: Int? = nil,
        maxAckPending: Int? = nil,
        inactiveThreshold: Duration? = nil,
        description: String? = nil
    ) {
        self.durableName = durableName
        self.deliverPolicy = deliverPolicy
        self.ackPolicy = ackPolicy
        self.ackWait = ackWait
        self.maxDeliver = maxDeliver
        self.backoff = backoff
        self.filterSubject = filterSubject
        self.replayPolicy = .instant
        self.maxWaiting = maxWaiting
        self.maxAckPending = maxAckPending
        self.inactiveThreshold = inactiveThreshold
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case name, description, backoff, metadata
        case durableName = "durable_name"
        case deliverPolicy = "deliver_policy"
        case optStartSequence = "opt_start_seq"
        case ackPolicy = "ack_policy"
        case ackWait = "ack_wait"
        case maxDeliver = "max_deliver"
        case filterSubject = "filter_subject"
        case filterSubjects = "filter_subjects"
        case replayPolicy = "replay_policy"
        case maxWaiting = "max_waiting"
        case maxAckPending = "max_ack_pending"
        case inactiveThreshold = "inactive_threshold"
        case replicas = "num_replicas"
        case memoryStorage = "mem_storage"
        case maxRequestBatch = "max_batch"
        case maxRequestExpires = "max_expires"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        durableName = try container.decodeIfPresent(String.self, forKey: .durableName)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        deliverPolicy = try container.decodeIfPresent(DeliverPolicy.self, forKey: .deliverPolicy) ?? .all
        optStartSequence = try container.decodeIfPresent(UInt64.self, forKey: .optStartSequence)
        ackPolicy = try container.decodeIfPresent(AckPolicy.self, forKey: .ackPolicy) ?? .none
        ackWait = try container.decodeNanoseconds(forKey: .ackWait)
        maxDeliver = try container.decodeIfPresent(Int.self, forKey: .maxDeliver)
        backoff = try container.decodeNanosecondsArray(forKey: .backoff)
        filterSubject = try container.decodeIfPresent(String.self, forKey: .filterSubject)
        filterSubjects = try container.decodeIfPresent([String].self, forKey: .filterSubjects)
        replayPolicy = try container.decodeIfPresent(ReplayPolicy.self, forKey: .replayPolicy) ?? .instant
        maxWaiting = try container.decodeIfPresent(Int.self, forKey: .maxWaiting)
        maxAckPending = try container.decodeIfPresent(Int.self, forKey: .maxAckPending)
        inactiveThreshold = try container.decodeNanoseconds(forKey: .inactiveThreshold)
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas)
        memoryStorage = try container.decodeIfPresent(Bool.self, forKey: .memoryStorage)
        maxRequestBatch = try container.decodeIfPresent(Int.self, forKey: .maxRequestBatch)
        maxRequestExpires = try container.decodeNanoseconds(forKey: .maxRequestExpires)
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(durableName, forKey: .durableName)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(deliverPolicy, forKey: .deliverPolicy)
        try container.encodeIfPresent(optStartSequence, forKey: .optStartSequence)
        try container.encode(ackPolicy, forKey: .ackPolicy)
        try container.encodeNanoseconds(ackWait, forKey: .ackWait)
        try container.encodeIfPresent(maxDeliver, forKey: .maxDeliver)
        try container.encodeNanoseconds(backoff, forKey: .backoff)
        try container.encodeIfPresent(filterSubject, forKey: .filterSubject)
        try container.encodeIfPresent(filterSubjects, forKey: .filterSubjects)
        try container.encode(replayPolicy, forKey: .replayPolicy)
        try container.encodeIfPresent(maxWaiting, forKey: .maxWaiting)
        try container.encodeIfPresent(maxAckPending, forKey: .maxAckPending)
        try container.encodeNanoseconds(inactiveThreshold, forKey: .inactiveThreshold)
        try container.encodeIfPresent(replicas, forKey: .replicas)
        try container.encodeIfPresent(memoryStorage, forKey: .memoryStorage)
        try container.encodeIfPresent(maxRequestBatch, forKey: .maxRequestBatch)
        try container.encodeNanoseconds(maxRequestExpires, forKey: .maxRequestExpires)
        try container.encodeIfPresent(metadata, forKey: .metadata)
    }
}

package struct DeliverPolicy: JetStreamPolicy {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static let all = Self(rawValue: "all")
    package static let last = Self(rawValue: "last")
    package static let new = Self(rawValue: "new")
    package static let byStartSequence = Self(rawValue: "by_start_sequence")
    package static let lastPerSubject = Self(rawValue: "last_per_subject")
}

package struct AckPolicy: JetStreamPolicy {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static let none = Self(rawValue: "none")
    package static let all = Self(rawValue: "all")
    package static let explicit = Self(rawValue: "explicit")
}

package struct ReplayPolicy: JetStreamPolicy {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static let instant = Self(rawValue: "instant")
    package static let original = Self(rawValue: "original")
}

/// What `CONSUMER.INFO` and `CONSUMER.*CREATE` answer.
package struct ConsumerInfo: Decodable, Sendable {
    package var streamName: String
    package var name: String
    package var created: String?
    package var config: ConsumerConfig
    package var delivered: SequenceInfo
    package var ackFloor: SequenceInfo
    package var numAckPending: Int
    package var numRedelivered: Int
    package var numWaiting: Int
    package var numPending: UInt64
    package var cluster: ClusterInfo?

    enum CodingKeys: String, CodingKey {
        case name, created, config, delivered, cluster
        case streamName = "stream_name"
        case ackFloor = "ack_floor"
        case numAckPending = "num_ack_pending"
        case numRedelivered = "num_redelivered"
        case numWaiting = "num_waiting"
        case numPending = "num_pending"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        streamName = try container.decode(String.self, forKey: .streamName)
        name = try container.decode(String.self, forKey: .name)
        created = try container.decodeIfPresent(String.self, forKey: .created)
        config = try container.decode(ConsumerConfig.self, forKey: .config)
        delivered = try container.decodeIfPresent(SequenceInfo.self, forKey: .delivered) ?? SequenceInfo()
        ackFloor = try container.decodeIfPresent(SequenceInfo.self, forKey: .ackFloor) ?? SequenceInfo()
        numAckPending = try container.decodeIfPresent(Int.self, forKey: .numAckPending) ?? 0
        numRedelivered = try container.decodeIfPresent(Int.self, forKey: .numRedelivered) ?? 0
        numWaiting = try container.decodeIfPresent(Int.self, forKey: .numWaiting) ?? 0
        numPending = try container.decodeIfPresent(UInt64.self, forKey: .numPending) ?? 0
        cluster = try container.decodeIfPresent(ClusterInfo.self, forKey: .cluster)
    }
}

package struct SequenceInfo: Decodable, Hashable, Sendable {
    package var consumerSequence: UInt64 = 0
    package var streamSequence: UInt64 = 0

    init() {}

    enum CodingKeys: String, CodingKey {
        case consumerSequence = "consumer_seq"
        case streamSequence = "stream_seq"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        consumerSequence = try container.decodeIfPresent(UInt64.self, forKey: .consumerSequence) ?? 0
        streamSequence = try container.decodeIfPresent(UInt64.self, forKey: .streamSequence) ?? 0
    }
}
