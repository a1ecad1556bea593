import GRPCCore
import SwitchyardTestSupport
import Synchronization

/// Thrown by `Crash`: not an RPCError, so grpc-swift must turn it into UNKNOWN.
struct NotAnRPCError: Error {}

/// What the test handlers saw, for tests to poll.
final class HandlerProbe: Sendable {
    private let state = Mutex<(started: [String], cancelled: [String], errors: [String])>(([], [], []))

    func started(_ name: String) { state.withLock { $0.started.append(name) } }
    func cancelled(_ name: String) { state.withLock { $0.cancelled.append(name) } }
    func failed(_ name: String, _ error: any Error) { state.withLock { $0.errors.append("\(name): \(error)") } }

    var startedCalls: [String] { state.withLock { $0.started } }
    var cancelledCalls: [String] { state.withLock { $0.cancelled } }
    var errors: [String] { state.withLock { $0.errors } }
}

/// `test.Echo`: one method per call shape and behaviour the transport must carry, over raw
/// bytes so tests control exactly what travels.
struct EchoService: RegistrableRPCService {
    static let serviceName = "test.Echo"

    let probe: HandlerProbe
    /// `Block` waits for this before answering (graceful shutdown with a call in flight).
    let gate: Latch

    init(probe: HandlerProbe = HandlerProbe(), gate: Latch = Latch()) {
        self.probe = probe
        self.gate = gate
    }

    static func method(_ name: String) -> MethodDescriptor {
        MethodDescriptor(fullyQualifiedService: serviceName, method: name)
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let probe = self.probe
        let gate = self.gate

        // Echoes the message; `x-request` comes back as response metadata `x-echo`, every
        // `-bin` header comes back unchanged, and a trailer says it is done.
        router.registerHandler(forMethod: Self.method("Unary"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            var message: [UInt8] = []
            for try await part in request.messages { message += part }
            var metadata: Metadata = [:]
            for value in request.metadata[stringValues: "x-request"] { metadata.addString(value, forKey: "x-echo") }
            for (key, value) in request.metadata where key.hasSuffix("-bin") {
                if case .binary(let bytes) = value { metadata.addBinary(bytes, forKey: key) }
            }
            let received = message
            return StreamingServerResponse(metadata: metadata) { writer in
                try await writer.write(received)
                return ["x-trailer": "done"]
            }
        }

        // All messages concatenated.
        router.registerHandler(forMethod: Self.method("Collect"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            var all: [UInt8] = []
            var count = 0
            for try await part in request.messages {
                all += part
                count += 1
            }
            let result = all
            let messages = count
            return StreamingServerResponse(metadata: ["x-count": "\(messages)"]) { writer in
                try await writer.write(result)
                return [:]
            }
        }

        // The request's first byte says how many messages to send; message i is `i` repeated
        // `i + 1` times.
        router.registerHandler(forMethod: Self.method("Expand"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            var first: [UInt8] = []
            for try await part in request.messages { first = part }
            let count = Int(first.first ?? 0)
            return StreamingServerResponse { writer in
                for index in 0..<count {
                    try await writer.write([UInt8](repeating: UInt8(index), count: index + 1))
                }
                return [:]
            }
        }

        // Chat, but reading and writing from the global executor: the transport must hop to
        // the connection's event loop itself instead of relying on the handler running there.
        router.registerHandler(forMethod: Self.method("OffLoopChat"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            StreamingServerResponse { writer in
                try await withTaskExecutorPreference(globalConcurrentExecutor) {
                    for try await part in request.messages {
                        try await writer.write(part)
                    }
                }
                return [:]
            }
        }

        // Echoes each message as it arrives.
        router.registerHandler(forMethod: Self.method("Chat"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            StreamingServerResponse { writer in
                for try await part in request.messages {
                    try await writer.write(part)
                }
                return [:]
            }
        }

        // The request's size as decimal text, for large requests.
        router.registerHandler(forMethod: Self.method("Size"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            var total = 0
            for try await part in request.messages { total += part.count }
            let text = Array(String(total).utf8)
            return StreamingServerResponse { writer in
                try await writer.write(text)
                return [:]
            }
        }

        // The request's `grpc-timeout` as text (the Switchyard server hands it on as
        // `switchyard-grpc-timeout`, since it enforces the deadline itself); empty if none.
        router.registerHandler(forMethod: Self.method("Timeout"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            for try await _ in request.messages {}
            let value = request.metadata[stringValues: "grpc-timeout"].first(where: { _ in true })
                ?? request.metadata[stringValues: "switchyard-grpc-timeout"].first(where: { _ in true })
                ?? ""
            return StreamingServerResponse { writer in
                try await writer.write(Array(value.utf8))
                return [:]
            }
        }

        // Fails with a status message that needs percent-encoding and trailing metadata.
        router.registerHandler(forMethod: Self.method("Fail"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context -> StreamingServerResponse<[UInt8]> in
            for try await _ in request.messages {}
            throw RPCError(code: .failedPrecondition, message: "naïve 100% ✓\nsecond line", metadata: ["x-reason": "test"])
        }

        // Throws something that is not an RPCError: the client must see UNKNOWN, and nothing
        // else on the connection may notice.
        router.registerHandler(forMethod: Self.method("Crash"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context -> StreamingServerResponse<[UInt8]> in
            throw NotAnRPCError()
        }

        // Waits until the RPC is cancelled (client reset, deadline, connection loss) and
        // records it.
        router.registerHandler(forMethod: Self.method("Hang"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            let name = String(decoding: request.metadata[stringValues: "x-name"].first(where: { _ in true }).map { Array($0.utf8) } ?? [], as: UTF8.self)
            probe.started(name)
            do {
                try await context.cancellation.cancelled
                probe.cancelled(name)
            } catch {
                probe.failed(name, error)
            }
            throw RPCError(code: .cancelled, message: "cancelled")
        }

        // Answers once the test opens `gate`.
        router.registerHandler(forMethod: Self.method("Block"), deserializer: RawDeserializer(), serializer: RawSerializer()) { request, context in
            var message: [UInt8] = []
            for try await part in request.messages { message += part }
            probe.started("block")
            await gate.wait()
            let reply = message
            return StreamingServerResponse { writer in
                try await writer.write(reply)
                return [:]
            }
        }
    }
}
