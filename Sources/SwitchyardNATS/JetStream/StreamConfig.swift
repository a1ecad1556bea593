/// A stream's configuration, with the API's JSON names. Unset optionals take the server's
/// defaults (and are not sent).
package struct StreamConfig: Codable, Hashable, Sendable {
    package var name: String
    package var description: String?
    package var subjects: [String]
    package var retention: RetentionPolicy
    package var storage: StorageType
    package var discard: DiscardPolicy
    package var replicas: Int
    /// 0: unlimited.
    package var maxAge: Duration
    /// -1: unlimited.
    package var maxMessages: Int64
    package var maxBytes: Int64
    package var maxMessagesPerSubject: Int64
    package var maxMessageSize: Int32
    package var maxConsumers: Int
    /// The window in which a repeated `Nats-Msg-Id` is a duplicate (server default 2 minutes).
    package var duplicateWindow: Duration?
    package var allowDirect: Bool?
    package var denyDelete: Bool?
    package var denyPurge: Bool?

    package init(
        name: String,
        subjects: [String],
        retention: RetentionPolicy = .limits,
        storage: StorageType = .file,
        discard: DiscardPolicy = .old,
        replicas: Int = 1,
        maxAge: Duration = .zero,
        maxMessages: Int64 = -1,
        maxBytes: Int64 = -1,
        maxMessagesPerSubject: Int64 = -1,
        maxMessageSize: Int32 = -1,
        maxConsumers: Int = -1,
        duplicateWindow: Duration? = nil,
        description: String? = nil
    ) {
        self.name = name
        self.subjects = subjects
        self.retention = retention
        self.storage = storage
        self.discard = discard
        self.replicas = replicas
        self.maxAge = maxAge
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        self.maxMessagesPerSubject = maxMessagesPerSubject
        self.maxMessageSize = maxMessageSize
        self.maxConsumers = maxConsumers
        self.duplicateWindow = duplicateWindow
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case name, description, subjects, retention, storage, discard
        case replicas = "num_replicas"
        case maxAge = "max_age"
        case maxMessages = "max_msgs"
        case maxBytes = "max_bytes"
        case maxMessagesPerSubject = "max_msgs_per_subject"
        case maxMessageSize = "max_msg_size"
        case maxConsumers = "max_consumers"
        case duplicateWindow = "duplicate_window"
        case allowDirect = "allow_direct"
        case denyDelete = "deny_delete"
        case denyPurge = "deny_purge"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        subjects = try container.decodeIfPresent([String].self, forKey: .subjects) ?? []
        retention = try container.decodeIfPresent(RetentionPolicy.self, forKey: .retention) ?? .limits
        storage = try container.decodeIfPresent(StorageType.self, forKey: .storage) ?? .file
        discard = try container.decodeIfPresent(DiscardPolicy.self, forKey: .discard) ?? .old
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        maxAge = try container.decodeNanoseconds(forKey: .maxAge) ?? .zero
        maxMessages = try container.decodeIfPresent(Int64.self, forKey: .maxMessages) ?? -1
        maxBytes = try container.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        maxMessagesPerSubject = try container.decodeIfPresent(Int64.self, forKey: .maxMessagesPerSubject) ?? -1
        maxMessageSize = try container.decodeIfPresent(Int32.self, forKey: .maxMessageSize) ?? -1
        maxConsumers = try container.decodeIfPresent(Int.self, forKey: .maxConsumers) ?? -1
        duplicateWindow = try container.decodeNanoseconds(forKey: .duplicateWindow)
        allowDirect = try container.decodeIfPresent(Bool.self, forKey: .allowDirect)
        denyDelete = try container.decodeIfPresent(Bool.self, forKey: .denyDelete)
        denyPurge = try container.decodeIfPresent(Bool.self, forKey: .denyPurge)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(subjects, forKey: .subjects)
        try container.encode(retention, forKey: .retention)
        try container.encode(storage, forKey: .storage)
        try container.encode(discard, forKey: .discard)
        try container.encode(replicas, forKey: .replicas)
        try container.encodeNanoseconds(maxAge, forKey: .maxAge)
        try container.encode(maxMessages, forKey: .maxMessages)
        try container.encode(maxBytes, forKey: .maxBytes)
        try container.encode(maxMessagesPerSubject, forKey: .maxMessagesPerSubject)
        try container.encode(maxMessageSize, forKey: .maxMessageSize)
        try container.encode(maxConsumers, forKey: .maxConsumers)
        try container.encodeNanoseconds(duplicateWindow, forKey: .duplicateWindow)
        try container.encodeIfPresent(allowDirect, forKey: .allowDirect)
        try container.encodeIfPresent(denyDelete, forKey: .denyDelete)
        try container.encodeIfPresent(denyPurge, forKey: .denyPurge)
    }
}

package struct RetentionPolicy: JetStreamPolicy {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static let limits = Self(rawValue: "limits")
    package static let interest = Self(rawValue: "interest")
    package static let workQueue = Self(rawValue: "workqueue")
}

package struct StorageType: JetStreamPolicy {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static let file = Self(rawValue: "file")
    package static let memory = Self(rawValue: "memory")
}

package struct DiscardPolicy: JetStreamPolicy {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static let old = Self(rawValue: "old")
    package static let new = Self(rawValue: "new")
}

/// What `STREAM.INFO`, `STREAM.CREATE` and `STREAM.UPDATE` answer.
package struct StreamInfo: Decodable, Sendable {
    package var config: StreamConfig
    package var created: String?
    package var state: StreamState
    package var cluster: ClusterInfo?
}

package struct StreamState: Decodable, Hashable, Sendable {
    package var messages: UInt64
    package var bytes: UInt64
    package var firstSequence: UInt64
    package var lastSequence: UInt64
    package var consumerCount: Int

    enum CodingKeys: String, CodingKey {
        case messages, bytes
        case firstSequence = "first_seq"
        case lastSequence = "last_seq"
        case consumerCount = "consumer_count"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decodeIfPresent(UInt64.self, forKey: .messages) ?? 0
        bytes = try container.decodeIfPresent(UInt64.self, forKey: .bytes) ?? 0
        firstSequence = try container.decodeIfPresent(UInt64.self, forKey: .firstSequence) ?? 0
        lastSequence = try container.decodeIfPresent(UInt64.self, forKey: .lastSequence) ?? 0
        consumerCount = try container.decodeIfPresent(Int.self, forKey: .consumerCount) ?? 0
    }
}

/// Where a clustered stream or consumer lives.
package struct ClusterInfo: Decodable, Hashable, Sendable {
    package var name: String?
    /// The server name of the current leader.
    package var leader: String?
}
