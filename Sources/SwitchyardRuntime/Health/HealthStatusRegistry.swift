import Synchronization

/// The serving status of every service on one gRPC server, and the watchers that follow it.
///
/// A server's services start `notServing` and become `serving` once it listens
/// (`GRPCServerService` does both). On graceful shutdown `enterShutdown()` turns everything
/// back to `notServing`, tells every watcher, and ends their streams so the server can drain:
/// an open Watch is an in-flight call that would otherwise hold shutdown up forever.
package final class HealthStatusRegistry: Sendable {
    package enum Status: Sendable, Hashable {
        case serving
        case notServing
    }

    /// What a watcher sees: a status, or `nil` while the service is unknown.
    package typealias Observation = Status?

    private struct Watcher {
        var service: String
        var continuation: AsyncStream<Observation>.Continuation
    }

    private struct State {
        var statuses: [String: Status]
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
        var isShutDown = false
    }

    private let state: Mutex<State>

    /// - Parameter services: The names to register, all `notServing`. The empty name, the
    ///   server as a whole, is always registered.
    package init(services: [String] = []) {
        var statuses: [String: Status] = ["": .notServing]
        for service in services { statuses[service] = .notServing }
        self.state = Mutex(State(statuses: statuses))
    }

    /// The status of `service`, or `nil` when it is not registered.
    package func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// Every registered service with its status.
    package func snapshot() -> [String: Status] {
        state.withLock { $0.statuses }
    }

    /// Sets one service's status (registering it if new) and tells its watchers. Ignored after
    /// `enterShutdown()`: nothing may report serving while the server drains.
    package func setStatus(_ status: Status, of service: String) {
        state.withLock { state in
            guard !state.isShutDown else { return }
            Self.update(&state, service: service, to: status)
        }
    }

    /// Sets every registered service, the server as a whole included.
    package func setAll(_ status: Status) {
        state.withLock { state in
            guard !state.isShutDown else { return }
            for service in state.statuses.keys { Self.update(&state, service: service, to: status) }
        }
    }

    /// Marks everything `notServing` for good, delivers that to every watcher, then finishes
    /// their streams. Idempotent.
    package func enterShutdown() {
        let finished: [Watcher] = state.withLock { state in
            guard !state.isShutDown else { return [] }
            for service in state.statuses.keys { Self.update(&state, service: service, to: .notServing) }
            state.isShutDown = true
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        for watcher in finished { watcher.continuation.finish() }
    }

    /// The current status of `service` at once, then every change, until the caller stops
    /// iterating or the registry shuts down (after delivering `notServing`).
    package func watch(service: String) -> AsyncStream<Observation> {
        let (stream, continuation) = AsyncStream<Observation>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let id: Int? = state.withLock { state in
            continuation.yield(state.statuses[service])
            guard !state.isShutDown else { return nil }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = Watcher(service: service, continuation: continuation)
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    private static func update(_ state: inout State, service: String, to status: Status) {
        let previous = state.statuses.updateValue(status, forKey: service)
        guard previous != status else { return }
        for watcher in state.watchers.values where watcher.service == service {
            watcher.continuation.yield(status)
        }
    }
}
