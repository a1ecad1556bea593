package import GRPCCore

/// Sends and receives message bytes untouched, so tests can put anything on the wire: garbage
/// instead of protobuf, 100 MB payloads, calls to methods no generated client knows.
package struct RawSerializer: MessageSerializer {
    package init() {}
    package func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

package struct RawDeserializer: MessageDeserializer {
    package init() {}
    package func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

extension GRPCClient {
    /// One unary call with raw bytes to `service`/`method`.
    package func rawUnary(
        service: String,
        method: String,
        message: [UInt8],
        timeout: Duration = .seconds(30)
    ) async throws -> [UInt8] {
        var options = CallOptions.defaults
        options.timeout = timeout
        return try await unary(
            request: ClientRequest(message: message),
            descriptor: MethodDescriptor(fullyQualifiedService: service, method: method),
            serializer: RawSerializer(),
            deserializer: RawDeserializer(),
            options: options
        ) { response in try response.message }
    }
}
