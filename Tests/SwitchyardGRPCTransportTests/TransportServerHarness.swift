import GRPCCore
import NIOCore
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Synchronization

/// A `GRPCServer` running on `SwitchyardHTTP2ServerTransport` at 127.0.0.1, port 0.
struct ServerUnderTest: Sendable {
    let port: Int
    let transport: SwitchyardHTTP2ServerTransport
    let server: GRPCServer<SwitchyardHTTP2ServerTransport>
    private let returned: StopFlag

    init(port: Int, transport: SwitchyardHTTP2ServerTransport, server: GRPCServer<SwitchyardHTTP2ServerTransport>, returned: StopFlag) {
        self.port = port
        self.transport = transport
        self.server = server
        self.returned = returned
    }

    /// Whether `serve()` (and so the transport's `listen`) has returned.
    var hasStopped: Bool { returned.isSet }
}

/// Set once `serve()` returned.
final class StopFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// Serves `services` for the duration of `body`, then shuts down gracefully and waits for the
/// server to stop.
func withTransportServer<Result: Sendable>(
    configuration: SwitchyardHTTP2ServerTransport.Configuration = .init(port: 0),
    services: [any RegistrableRPCService],
    interceptors: [any ServerInterceptor] = [],
    body: (ServerUnderTest) async throws -> Result
) async throws -> Result {
    let transport = SwitchyardHTTP2ServerTransport(configuration: configuration)
    let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
    let returned = StopFlag()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await server.serve()
            returned.set()
        }
        do {
            let address = try await transport.listeningAddress
            let result = try await body(ServerUnderTest(port: address.port ?? 0, transport: transport, server: server, returned: returned))
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
    }
}

/// The RPCError `call` throws; `nil` (and a recorded issue) when it succeeds or throws
/// something else.
func rpcError(_ call: () async throws -> Void) async -> RPCError? {
    do {
        try await call()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPCError: \(error)")
    }
}

extension GRPCClient {
    /// A unary raw-bytes call returning the whole response.
    func rawCall(
        _ method: String,
        _ message: [UInt8] = [],
        metadata: Metadata = [:],
        timeout: Duration = .seconds(20)
    ) async throws -> ClientResponse<[UInt8]> {
        var options = CallOptions.defaults
        options.timeout = timeout
        return try await unary(
            request: ClientRequest(message: message, metadata: metadata),
            descriptor: EchoService.method(method),
            serializer: RawSerializer(),
            deserializer: RawDeserializer(),
            options: options
        ) { response in response }
    }
}
