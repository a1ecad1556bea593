/// Bytes from the server that break the NATS protocol. The connection that read them is
/// closed (and reconnected); nothing the server sends ends the process.
package enum NATSProtocolError: Error, Hashable, CustomStringConvertible {
    case unknownOperation(String)
    case malformedArguments(operation: String, reason: String)
    case controlLineTooLong(limit: Int)
    case payloadTooLarge(size: Int, limit: Int)
    case missingPayloadTerminator
    case malformedHeaders(String)

    package var description: String {
        switch self {
        case .unknownOperation(let verb): "unknown protocol operation \(verb.debugDescription)"
        case .malformedArguments(let operation, let reason): "malformed \(operation): \(reason)"
        case .controlLineTooLong(let limit): "protocol line longer than \(limit) bytes"
        case .payloadTooLarge(let size, let limit): "message of \(size) bytes exceeds max_payload \(limit)"
        case .missingPayloadTerminator: "message payload not followed by CRLF"
        case .malformedHeaders(let reason): "malformed header block: \(reason)"
        }
    }
}
