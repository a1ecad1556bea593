package import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
package import SwitchyardGRPCTransport

/// Which HTTP/2 implementation a gRPC client runs on. Both carry the same generated clients;
/// only the connection handling differs.
package enum GRPCClientTransportKind: String, Sendable, Hashable, CaseIterable {
    /// grpc-swift-nio-transport's HTTP/2 client: the reference implementation.
    case grpcNIO = "grpc-nio"
    /// `SwitchyardHTTP2ClientTransport`: one HTTP/2 handler per connection, calls run on the
    /// connection's event loop.
    case switchyard = "switchyard"
}

/// The client transport every downstream client runs on, whichever kind was configured, so
/// the code holding clients (`GatewayDownstreams`, `GRPCStockReservations`) names one type.
///
/// Its bytes are the Switchyard transport's, which it passes through untouched; on grpc-nio
/// each message is copied once each way between the two byte types (a few dozen bytes per
/// call, next to that transport's own per-call costs).
package struct ErasedGRPCClientTransport: ClientTransport {
    package typealias Bytes = SwitchyardGRPCBytes

    private enum Wrapped: Sendable {
        case switchyard(SwitchyardHTTP2ClientTransport)
        case grpcNIO(HTTP2ClientTransport.Posix)
    }

    private let wrapped: Wrapped

    /// The transport for `kind`, connecting to `target`.
    ///
    /// - Parameters:
    ///   - kind: The HTTP/2 implementation.
    ///   - target: Where the downstream listens.
    /// - Throws: When grpc-swift's transport rejects the target.
    package init(kind: GRPCClientTransportKind, target: DownstreamTarget) throws {
        if case .address(let configuration) = target, let replicas = configuration.replicas {
            wrapped = .grpcNIO(try replicas.makeTransport())
            return
        }
        switch kind {
        case .switchyard:
            let transportTarget: SwitchyardHTTP2ClientTransport.Target
            switch target {
            case .address(let configuration):
                transportTarget = .host(configuration.host, port: configuration.port)
            case .published(let service, let book):
                transportTarget = .addresses(
                    book.addresses(of: service).map { SwitchyardHTTP2ClientTransport.Address(host: $0.host, port: $0.port) }
                )
            }
            wrapped = .switchyard(SwitchyardHTTP2ClientTransport(target: transportTarget))
        case .grpcNIO:
            switch target {
            case .address(let configuration):
                wrapped = .grpcNIO(
                    try HTTP2ClientTransport.Posix(
                        target: .ipv4(address: configuration.host, port: configuration.port),
                        transportSecurity: .plaintext
                    )
                )
            case .published(let service, let book):
                var resolvers = NameResolverRegistry.defaults
                resolvers.registerFactory(PublishedServiceResolverFactory())
                wrapped = .grpcNIO(
                    try HTTP2ClientTransport.Posix(
                        target: PublishedServiceTarget(service: service, book: book),
                        transportSecurity: .plaintext,
                        resolverRegistry: resolvers
                    )
                )
            }
        }
    }

    /// Which implementation this is.
    package var kind: GRPCClientTransportKind {
        switch wrapped {
        case .switchyard: .switchyard
        case .grpcNIO: .grpcNIO
        }
    }

    /// Who should enforce the timeouts of calls on this transport: the Switchyard transport
    /// does it itself, more cheaply than grpc-swift's executor (see `TransportCallTimeout`).
    package var callTimeouts: CallTimeoutEnforcement {
        switch wrapped {
        case .switchyard: .transport
        case .grpcNIO: .grpcSwift
        }
    }

    package var retryThrottle: RetryThrottle? {
        switch wrapped {
        case .switchyard(let transport): transport.retryThrottle
        case .grpcNIO(let transport): transport.retryThrottle
        }
    }

    package func connect() async throws {
        switch wrapped {
        case .switchyard(let transport): try await transport.connect()
        case .grpcNIO(let transport): try await transport.connect()
        }
    }

    package func beginGracefulShutdown() {
        switch wrapped {
        case .switchyard(let transport): transport.beginGracefulShutdown()
        case .grpcNIO(let transport): transport.beginGracefulShutdown()
        }
    }

    package func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        switch wrapped {
        case .switchyard(let transport): transport.config(forMethod: descriptor)
        case .grpcNIO(let transport): transport.config(forMethod: descriptor)
        }
    }

    package func withStream<T: Sendable>(
        descriptor: MethodDescriptor,
        options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        switch wrapped {
        case .switchyard(let transport):
            return try await transport.withStream(descriptor: descriptor, options: options, closure)
        case .grpcNIO(let transport):
            return try await transport.withStream(descriptor: descriptor, options: options) { stream, context in
                let converted = RPCStream(
                    descriptor: stream.descriptor,
                    inbound: RPCAsyncSequence(wrapping: ConvertedResponseParts(base: stream.inbound)),
                    outbound: RPCWriter.Closable(wrapping: ConvertingRequestWriter(base: stream.outbound))
                )
                return try await closure(converted, context)
            }
        }
    }
}

/// grpc-nio's response parts with Switchyard bytes.
private struct ConvertedResponseParts: AsyncSequence, Sendable {
    typealias Element = RPCResponsePart<SwitchyardGRPCBytes>
    typealias Failure = any Error

    let base: RPCAsyncSequence<RPCResponsePart<GRPCNIOTransportBytes>, any Error>

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RPCAsyncSequence<RPCResponsePart<GRPCNIOTransportBytes>, any Error>.AsyncIterator

        mutating func next() async throws -> Element? {
            try await next(isolation: nil)
        }

        mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Element? {
            switch try await base.next(isolation: actor) {
            case .none:
                return nil
            case .metadata(let metadata):
                return .metadata(metadata)
            case .message(let bytes):
                return .message(bytes.withUnsafeBytes { SwitchyardGRPCBytes(ByteBuffer(bytes: $0)) })
            case .status(let status, let metadata):
                return .status(status, metadata)
            }
        }
    }
}

/// Writes request parts with Switchyard bytes to grpc-nio's writer.
private struct ConvertingRequestWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCRequestPart<SwitchyardGRPCBytes>

    let base: RPCWriter<RPCRequestPart<GRPCNIOTransportBytes>>.Closable

    func write(_ element: Element) async throws {
        try await base.write(Self.convert(element))
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        try await base.write(contentsOf: elements.map(Self.convert))
    }

    func finish() async {
        await base.finish()
    }

    func finish(throwing error: any Error) async {
        await base.finish(throwing: error)
    }

    private static func convert(_ element: Element) -> RPCRequestPart<GRPCNIOTransportBytes> {
        switch element {
        case .metadata(let metadata):
            return .metadata(metadata)
        case .message(let bytes):
            return .message(GRPCNIOTransportBytes(bytes.buffer.readableBytesView))
        }
    }
}
