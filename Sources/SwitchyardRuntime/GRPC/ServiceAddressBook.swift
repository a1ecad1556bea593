import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Where the services of one process listen, published as they bind. In `switchyard dev`
/// services bind in the same process and may bind port 0; their clients resolve each other
/// through this book (the Switchyard client transport follows `addresses(of:)`, grpc-swift's
/// through a name resolver), so a client can exist before the server it calls knows its port,
/// and simply connects once it does.
package final class ServiceAddressBook: Sendable {
    private struct State {
        var addresses: [String: ListeningAddress] = [:]
        var watchers: [String: [UInt64: @Sendable (ListeningAddress) -> Void]] = [:]
        var nextWatcherID: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Records where `service` listens and tells every client following it.
    package func publish(_ address: ListeningAddress, for service: String) {
        let watchers = state.withLock { state in
            state.addresses[service] = address
            return Array((state.watchers[service] ?? [:]).values)
        }
        for watcher in watchers { watcher(address) }
    }

    /// Where `service` listens, if it has published.
    package func address(of service: String) -> ListeningAddress? {
        state.withLock { $0.addresses[service] }
    }

    /// Every address `service` publishes: the current one at once if known, then each new one.
    /// Only the newest matters to a client, so a slow reader sees the latest, not a backlog.
    package func addresses(of service: String) -> AsyncStream<ListeningAddress> {
        let (stream, continuation) = AsyncStream<ListeningAddress>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = watch(service) { address in continuation.yield(address) }
        continuation.onTermination = { [weak self] _ in
            self?.unwatch(service, id: id)
        }
        return stream
    }

    /// A name resolver (push mode) for `service`, for grpc-swift's client transport: the
    /// current address at once if known, then every new one.
    func resolver(for service: String) -> NameResolver {
        let (stream, continuation) = AsyncThrowingStream<NameResolutionResult, any Error>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = watch(service) { address in continuation.yield(Self.result(address)) }
        continuation.onTermination = { [weak self] _ in
            self?.unwatch(service, id: id)
        }
        return NameResolver(names: .init(wrapping: stream), updateMode: .push)
    }

    /// Registers `watcher` and calls it with the current address, if any, before any newer one.
    private func watch(_ service: String, _ watcher: @escaping @Sendable (ListeningAddress) -> Void) -> UInt64 {
        state.withLock { state in
            state.nextWatcherID += 1
            let id = state.nextWatcherID
            // Under the lock, so a concurrent publish cannot overtake the current address.
            if let address = state.addresses[service] { watcher(address) }
            state.watchers[service, default: [:]][id] = watcher
            return id
        }
    }

    private func unwatch(_ service: String, id: UInt64) {
        _ = state.withLock { state in
            state.watchers[service]?.removeValue(forKey: id)
        }
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

/// Resolves `PublishedServiceTarget`s; registered with grpc-swift's client transport.
struct PublishedServiceResolverFactory: NameResolverFactory {
    func resolver(for target: PublishedServiceTarget) -> NameResolver {
        target.book.resolver(for: target.service)
    }
}
