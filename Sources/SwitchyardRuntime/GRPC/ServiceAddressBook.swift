import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Where the services of one process listen, published as they bind. In `switchyard dev`
/// services bind in the same process and may bind port 0; their clients resolve each other
/// through this book (a gRPC name resolver), so a client can exist before the server it
/// calls knows its port, and simply connects once it does.
package final class ServiceAddressBook: Sendable {
    private struct State {
        var addresses: [String: ListeningAddress] = [:]
        var watchers: [String: [AsyncThrowingStream<NameResolutionResult, any Error>.Continuation]] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Records where `service` listens and tells every client resolving it.
    package func publish(_ address: ListeningAddress, for service: String) {
        let watchers = state.withLock { state in
            state.addresses[service] = address
            return state.watchers[service] ?? []
        }
        for watcher in watchers { watcher.yield(Self.result(address)) }
    }

    /// Where `service` listens, if it has published.
    package func address(of service: String) -> ListeningAddress? {
        state.withLock { $0.addresses[service] }
    }

    /// A name resolver (push mode) for `service`: the current address at once if known, then
    /// every new one.
    func resolver(for service: String) -> NameResolver {
        let (stream, continuation) = AsyncThrowingStream<NameResolutionResult, any Error>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { state in
            if let address = state.addresses[service] { continuation.yield(Self.result(address)) }
            state.watchers[service, default: []].append(continuation)
        }
        return NameResolver(names: .init(wrapping: stream), updateMode: .push)
    }

    private static func result(_ address: ListeningAddress) -> NameResolutionResult {
        NameResolutionResult(endpoints: [Endpoint(addresses: [.ipv4(host: address.host, port: address.port)])], serviceConfig: nil)
    }
}

/// A gRPC target naming a service in a `ServiceAddressBook`.
package struct PublishedServiceTarget: ResolvableTarget, Sendable {
    package var service: String
    package var book: ServiceAddressBook

    package init(service: String, book: ServiceAddressBook) {
        self.service = service
        self.book = book
    }
}

/// Resolves `PublishedServiceTarget`s; registered with the client transport.
struct PublishedServiceResolverFactory: NameResolverFactory {
    func resolver(for target: PublishedServiceTarget) -> NameResolver {
        target.book.resolver(for: target.service)
    }
}
