import Foundation
import NIOCore

/// Streams and consumers: idempotent create-or-update, info, delete, names.
extension JetStream {
    /// Creates the stream, or updates it when one of that name exists with another
    /// configuration. Creating with an identical configuration succeeds without change.
    package func createOrUpdateStream(_ config: StreamConfig) async throws -> StreamInfo {
        do {
            return try await call("STREAM.CREATE.\(try apiToken(config.name))", body: config)
        } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNameInUse {
            return try await call("STREAM.UPDATE.\(try apiToken(config.name))", body: config)
        }
    }

    /// The stream's info, `nil` when it does not exist.
    package func streamInfo(_ name: String) async throws -> StreamInfo? {
        do {
            return try await call("STREAM.INFO.\(try apiToken(name))")
        } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
            return nil
        }
    }

    /// Deletes the stream; `false` when it did not exist.
    @discardableResult
    package func deleteStream(_ name: String) async throws -> Bool {
        do {
            let response: SuccessResponse = try await call("STREAM.DELETE.\(try apiToken(name))")
            return response.success ?? false
        } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
            return false
        }
    }

    /// Every stream's name (all pages).
    package func streamNames() async throws -> [String] {
        struct Page: Decodable {
            var total: Int
            var streams: [String]?
        }
        struct PageRequest: Encodable { var offset: Int }
        var names: [String] = []
        while true {
            let page: Page = try await call("STREAM.NAMES", body: PageRequest(offset: names.count))
            let streams = page.streams ?? []
            names += streams
            if streams.isEmpty || names.count >= page.total { return names }
        }
    }

    /// Creates the durable consumer, or updates it (`CONSUMER.DURABLE.CREATE`, which nats-server
    /// 2.9 and 2.10+ both treat as create-or-update). `config.durableName` must be set.
    package func createOrUpdateConsumer(stream: String, _ config: ConsumerConfig) async throws -> ConsumerInfo {
        struct Request: Encodable {
            var streamName: String
            var config: ConsumerConfig
            enum CodingKeys: String, CodingKey {
                case streamName = "stream_name"
                case config
            }
        }
        guard let durable = config.durableName ?? config.name else {
            throw JetStreamError.malformedResponse("a durable consumer needs durableName")
        }
        var config = config
        config.durableName = durable
        return try await call(
            "CONSUMER.DURABLE.CREATE.\(try apiToken(stream)).\(try apiToken(durable))", body: Request(streamName: stream, config: config)
        )
    }

    /// The consumer's info, `nil` when it (or its stream) does not exist.
    package func consumerInfo(stream: String, consumer: String) async throws -> ConsumerInfo? {
        do {
            return try await call("CONSUMER.INFO.\(try apiToken(stream)).\(try apiToken(consumer))")
        } catch let error as JetStreamAPIError
            where error.errorCode == JetStreamAPIError.consumerNotFound || error.errorCode == JetStreamAPIError.streamNotFound
        {
            return nil
        }
    }

    /// Deletes the consumer; `false` when it did not exist.
    @discardableResult
    package func deleteConsumer(stream: String, consumer: String) async throws -> Bool {
        do {
            let response: SuccessResponse = try await call("CONSUMER.DELETE.\(try apiToken(stream)).\(try apiToken(consumer))")
            return response.success ?? false
        } catch let error as JetStreamAPIError
            where error.errorCode == JetStreamAPIError.consumerNotFound || error.errorCode == JetStreamAPIError.streamNotFound
        {
            return false
        }
    }

    /// A stream or consumer name as one subject token.
    func apiToken(_ name: String) throws(NATSError) -> String {
        guard !name.isEmpty, !name.utf8.contains(where: { $0 <= 32 || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: ">") })
        else { throw NATSError.invalidSubject(name) }
        return name
    }
}
