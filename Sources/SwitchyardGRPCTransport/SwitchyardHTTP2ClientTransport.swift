package import GRPCCore
package import Logging
package import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization

/// A gRPC-over-HTTP/2 client transport for grpc-swift 2 that runs each connection's calls on
/// that connection's event loop.
///
/// Where grpc-swift-nio-transport gives every call a child channel, an `NIOAsyncChannel` and
/// the hops between them, this transport keeps one `NIOHTTP2Handler` per connection without a
/// multiplexer and a small per-call state object; the caller's task prefers the connection's
/// event loop while it runs the call, so request parts become frames and response frames
/// become parts on the thread that owns the socket.
///
/// ## Using it
///
/// ```swift
/// let transport = SwitchyardHTTP2ClientTransport(target: .host("127.0.0.1", port: 50051))
/// try await withGRPCClient(transport: transport) { client in
///     let inventory = Inventory_Inventory.Client(wrapping: client)
///     let stock = try await inventory.getStock(.with { $0.sku = "sku-1" })
/// }
/// ```
///
/// ## Connections
///
/// `connect()` (which `GRPCClient.runConnections()` calls) keeps `connectionCount` connections
/// (one by default) to the target's latest address for as long as it runs: a connection that
/// closes is replaced at once, a failed attempt is retried after an exponential backoff with
/// jitter, a GOAWAY from the server makes the transport open a new connection for later calls
/// while the calls on the old one finish, and a new address from `Target.addresses` moves the
/// transport to it (calls on the old connection finish there).
///
/// A call waits for a connection while none is ready, bounded by its timeout; with
/// `waitForReady == false` (grpc-swift's default) it fails with UNAVAILABLE instead once an
/// attempt to connect has failed and none has succeeded since.
///
/// `beginGracefulShutdown()` stops new calls; `connect()` returns once the calls in flight have
/// finished and the connections closed. Cancelling `connect()`'s task closes every connection
/// at once, failing open calls with UNAVAILABLE.
package final class SwitchyardHTTP2ClientTransport: ClientTransport {
    package typealias Bytes = SwitchyardGRPCBytes

    /// A host and port to connect to.
    package struct Address: Sendable, Hashable, CustomStringConvertible {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, with brackets around an IPv6 host: also the calls' `:authority`.
        package var description: String {
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Where the transport connects.
    package struct Target: Sendable {
        enum Source: Sendable {
            case fixed(Address)
            /// Runs for as long as `connect()` does, reporting each new address.
            case updates(@Sendable (_ publish: @escaping @Sendable (Address) -> Void) async -> Void)
        }

        let source: Source

        /// A fixed address.
        package static func host(_ host: String, port: Int) -> Target {
            Target(source: .fixed(Address(host: host, port: port)))
        }

        /// The latest address `addresses` has produced: calls made before the first one wait
        /// for it, and each new one moves the transport's connections there. If the sequence
        /// ends (or fails), the transport stays with the last address it produced.
        ///
        /// - Parameter addresses: For example an address book's updates for one service.
        package static func addresses<Addresses: AsyncSequence & Sendable>(_ addresses: Addresses) -> Target where Addresses.Element == Address {
            Target(source: .updates({ publish in
                do {
                    for try await address in addresses {
                        publish(address)
                    }
                } catch {
                    // An address source that fails is one that ended: keep the last address.
                }
            }))
        }
    }

    /// Exponential backoff with jitter between failed connection attempts.
    package struct Backoff: Sendable, Hashable {
        /// The pause after the first failure.
        package var initial: Duration
        /// The longest pause.
        package var maximum: Duration
        /// How much longer each pause is than the one before.
        package var multiplier: Double
        /// A random ± fraction applied to every pause but the first, so clients that lost the
        /// same server do not come back in lock step.
        package var jitter: Double

        package init(initial: Duration, maximum: Duration, multiplier: Double, jitter: Double) {
            self.initial = initial
            self.maximum = maximum
            self.multiplier = max(1, multiplier)
            self.jitter = min(max(0, jitter), 1)
        }

        /// 100 ms, then ×1.6 up to 5 s, ±20 %: servers here are local or one hop away, so a
        /// restarted one is found within a fraction of a second (grpc-swift's 1 s start suits
        /// the internet better).
        package static let standard = Backoff(initial: .milliseconds(100), maximum: .seconds(5), multiplier: 1.6, jitter: 0.2)

        /// The pause after `failures` consecutive failed attempts (1 or more).
        package func delay(afterFailures failures: Int) -> Duration {
            let initialSeconds = Self.seconds(initial)
            let maximumSeconds = Self.seconds(maximum)
            guard failures > 1 else { return .nanoseconds(Int64(min(initialSeconds, maximumSeconds) * 1e9)) }
            var base = initialSeconds
            for _ in 1..<failures where base < maximumSeconds {
                base *= multiplier
            }
            base = min(base, maximumSeconds)
            let jittered = base * (1 + Double.random(in: -jitter...jitter))
            return .nanoseconds(Int64(max(0, jittered) * 1e9))
        }

        private static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    /// How the transport connects and what it accepts.
    package struct Configuration: Sendable {
        /// Connections kept to the target, each on its own event loop where there are enough;
        /// calls are spread over the ready ones in turn.
        package var connectionCount: Int
        /// The calls' `:authority`; `host:port` of the address connected to when `nil`.
        package var authority: String?
        /// Larger response messages fail the call with RESOURCE_EXHAUSTED, unless the call's
        /// options say otherwise.
        package var maxResponseMessageBytes: Int
        /// The per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE).
        package var streamWindowBytes: Int
        /// The connection-level receive window.
        package var connectionWindowBytes: Int
        /// How long a TCP connect may take.
        package var connectTimeout: Duration
        /// How long the server may take to send its SETTINGS once TCP is up.
        package var handshakeTimeout: Duration
        /// Pauses between failed connection attempts.
        package var backoff: Backoff
        /// Event loops to run; `nil` is `connectionCount`, at most one per CPU this process may
        /// run on (`ProcessorAffinity`).
        package var eventLoopCount: Int?

        /// One connection, 4 MiB response messages, a 256 KiB stream window and 2 MiB for the
        /// connection (as the server transport: bounded buffering, not window-bound on loopback).
        package init() {
            self.connectionCount = 1
            self.authority = nil
            self.maxResponseMessageBytes = 4 * 1024 * 1024
            self.streamWindowBytes = 256 * 1024
            self.connectionWindowBytes = 2 * 1024 * 1024
            self.connectTimeout = .seconds(5)
            self.handshakeTimeout = .seconds(5)
            self.backoff = .standard
            self.eventLoopCount = nil
        }
    }

    private enum Lifecycle {
        /// `connect()` has not run yet; calls wait.
        case idle
        case running
        case shuttingDown
        case stopped
    }

    private struct Waiter {
        var continuation: CheckedContinuation<GRPCClientConnection, any Error>
        var waitForReady: Bool
        var timer: Scheduled<Void>?
    }

    /// What calls and the connection loop share.
    private struct State {
        var lifecycle = Lifecycle.idle
        /// The ready connection of each slot, if it has one.
        var ready: [GRPCClientConnection?]
        var readyCount = 0
        var nextPick = 0
        /// Slots whose last attempt failed and that have not been ready since: once all are,
        /// calls that do not wait for ready fail fast.
        var failing: [Bool]
        var lastFailure: RPCError?
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
        var events: AsyncStream<Event>.Continuation?
        /// Every open connection, so that a cancelled `connect()` can close them.
        var live: [UInt64: GRPCClientConnection] = [:]
        var loopEnded = false

        init(slots: Int) {
            ready = Array(repeating: nil, count: slots)
            failing = Array(repeating: false, count: slots)
        }

        enum Pick {
            case connection(GRPCClientConnection)
            case wait
            case fail(RPCError)
        }

        mutating func pick(waitForReady: Bool) -> Pick {
            switch lifecycle {
            case .shuttingDown, .stopped:
                return .fail(RPCError(code: .failedPrecondition, message: "The client transport is shutting down."))
            case .idle, .running:
                break
            }
            if readyCount > 0 {
                for _ in 0..<ready.count {
                    let slot = nextPick
                    nextPick = (nextPick + 1) % ready.count
                    if let connection = ready[slot] { return .connection(connection) }
                }
            }
            if !waitForReady, failing.allSatisfy({ $0 }) {
                return .fail(RPCError(code: .unavailable, message: "No connection to the server could be established.", cause: lastFailure))
            }
            return .wait
        }

        /// The connection stops taking calls.
        mutating func unready(slot: Int, id: UInt64) {
            guard ready.indices.contains(slot), let connection = ready[slot], connection.id == id else { return }
            ready[slot] = nil
            readyCount -= 1
        }
    }

    /// What the connection loop reacts to.
    private enum Event: Sendable {
        case address(Address)
        case connected(slot: Int, attempt: UInt64, GRPCClientConnection)
        case attemptFailed(slot: Int, attempt: UInt64, RPCError)
        case goingAway(slot: Int, connection: UInt64)
        case closed(slot: Int, connection: UInt64)
        case backoffElapsed(slot: Int, token: UInt64)
        case shutdown
    }

    /// The connection loop's own view of a slot.
    private struct Slot {
        enum Phase {
            case idle
            case connecting(attempt: UInt64)
            case backingOff(token: UInt64, timer: Scheduled<Void>)
            case connected(GRPCClientConnection, since: NIODeadline)
        }

        var phase = Phase.idle
        var failures = 0
    }

    private struct Loop {
        var slots: [Slot]
        var address: Address?
        var nextToken: UInt64 = 0
        /// Connection tasks (attempt, then the connection's life) still running.
        var liveTasks = 0
        var shuttingDown = false

        var isFinished: Bool { shuttingDown && liveTasks == 0 }

        mutating func token() -> UInt64 {
            nextToken += 1
            return nextToken
        }
    }

    private let target: Target
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let logger: Logger
    private let connectionOptions: GRPCClientConnection.Options
    private let state: Mutex<State>

    /// - Parameters:
    ///   - target: Where to connect.
    ///   - configuration: Connections, limits, timeouts.
    ///   - eventLoopGroup: Loops to run connections on; by default the transport runs its own
    ///     group, sized by `Configuration.eventLoopCount`, until the transport is released. Callers'
    ///     tasks run on these loops while they run a call, so code that blocks inside a call's
    ///     response handler stalls the loop's connection.
    ///   - logger: For connection-level events, at debug level.
    package init(
        target: Target,
        configuration: Configuration = Configuration(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "switchyard.grpc.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        var configuration = configuration
        configuration.connectionCount = max(1, configuration.connectionCount)
        self.target = target
        self.configuration = configuration
        self.logger = logger
        if let eventLoopGroup {
            self.group = eventLoopGroup
            self.ownsGroup = false
        } else {
            let loops = configuration.eventLoopCount ?? min(configuration.connectionCount, ProcessorAffinity.usableProcessorCount)
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, loops))
            self.ownsGroup = true
        }
        self.state = Mutex(State(slots: configuration.connectionCount))
        self.connectionOptions = GRPCClientConnection.Options(
            settings: .init(
                streamWindowBytes: configuration.streamWindowBytes,
                connectionWindowBytes: configuration.connectionWindowBytes,
                handshakeTimeout: TimeAmount(configuration.handshakeTimeout)
            ),
            http2: Self.http2Configuration(configuration),
            connectTimeout: TimeAmount(configuration.connectTimeout),
            authority: configuration.authority,
            logger: logger
        )
    }

    deinit {
        if ownsGroup {
            group.shutdownGracefully { _ in }
        }
    }

    package var retryThrottle: RetryThrottle? { nil }

    package func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? { nil }

    // MARK: Connections

    package func connect() async throws {
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let start = try state.withLock { state -> Bool in
            switch state.lifecycle {
            case .idle:
                state.lifecycle = .running
                state.events = continuation
                return true
            case .shuttingDown:
                state.lifecycle = .stopped
                return false
            case .running, .stopped:
                throw RuntimeError(code: .transportError, message: "The transport's connect() may only run once.")
            }
        }
        if start {
            await withDiscardingTaskGroup { group in
                var loop = Loop(slots: Array(repeating: Slot(), count: configuration.connectionCount))
                switch target.source {
                case .fixed(let address):
                    handle(.address(address), loop: &loop, group: &group)
                case .updates(let watch):
                    group.addTask {
                        await watch { address in continuation.yield(.address(address)) }
                    }
                }
                if !loop.isFinished {
                    for await event in events {
                        handle(event, loop: &loop, group: &group)
                        if loop.isFinished { break }
                    }
                }
                // Shut down with every connection closed, or cancelled: close what is left.
                for slot in loop.slots {
                    if case .backingOff(_, let timer) = slot.phase { timer.cancel() }
                }
                stop()
                group.cancelAll()
            }
        }
        continuation.finish()
        failWaiters(RPCError(code: .unavailable, message: "The client transport stopped."))
        // The transport's own loops stop in `deinit`, not here: a caller's task may still be
        // leaving a loop's executor after its call ended, and a job enqueued on a loop that
        // has shut down is dropped, leaving that task suspended for ever. Every such task
        // holds the transport until it is off the loop.
    }

    package func beginGracefulShutdown() {
        let (waiters, events) = state.withLock { state -> ([Waiter], AsyncStream<Event>.Continuation?) in
            switch state.lifecycle {
            case .idle, .running:
                state.lifecycle = .shuttingDown
            case .shuttingDown, .stopped:
                return ([], nil)
            }
            state.ready = Array(repeating: nil, count: state.ready.count)
            state.readyCount = 0
            defer { state.waiters.removeAll() }
            return (Array(state.waiters.values), state.events)
        }
        for waiter in waiters {
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: RPCError(code: .failedPrecondition, message: "The client transport is shutting down."))
        }
        events?.yield(.shutdown)
    }

    /// The connection loop ended: nothing may be picked or opened any more; close what is open.
    private func stop() {
        let live = state.withLock { state -> [GRPCClientConnection] in
            state.loopEnded = true
            state.lifecycle = .stopped
            state.events = nil
            state.ready = Array(repeating: nil, count: state.ready.count)
            state.readyCount = 0
            defer { state.live.removeAll() }
            return Array(state.live.values)
        }
        for connection in live { connection.close() }
    }

    private func failWaiters(_ error: RPCError, onlyFailFast: Bool = false) {
        let waiters = state.withLock { state -> [Waiter] in
            var taken: [Waiter] = []
            for (id, waiter) in state.waiters where !onlyFailFast || !waiter.waitForReady {
                taken.append(waiter)
                state.waiters.removeValue(forKey: id)
            }
            return taken
        }
        for waiter in waiters {
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: error)
        }
    }

    private func yield(_ event: Event) {
        let events = state.withLock { $0.events }
        events?.yield(event)
    }

    private func handle(_ event: Event, loop: inout Loop, group: inout DiscardingTaskGroup) {
        switch event {
        case .address(let address):
            guard address != loop.address else { return }
            logger.debug("target address", metadata: ["switchyard.grpc.address": "\(address)"])
            loop.address = address
            for slot in loop.slots.indices {
                switch loop.slots[slot].phase {
                case .idle:
                    startAttempt(slot: slot, loop: &loop, group: &group)
                case .connecting:
                    // Checked when it connects: a connection to an old address is let go.
                    break
                case .backingOff(_, let timer):
                    timer.cancel()
                    loop.slots[slot].failures = 0
                    startAttempt(slot: slot, loop: &loop, group: &group)
                case .connected(let connection, _) where connection.address != address:
                    state.withLock { $0.unready(slot: slot, id: connection.id) }
                    connection.closeGracefully()
                    startAttempt(slot: slot, loop: &loop, group: &group)
                case .connected:
                    break
                }
            }

        case .connected(let slot, let attempt, let connection):
            guard case .connecting(attempt) = loop.slots[slot].phase, !loop.shuttingDown else {
                connection.closeGracefully()
                return
            }
            guard connection.address == loop.address else {
                connection.closeGracefully()
                startAttempt(slot: slot, loop: &loop, group: &group)
                return
            }
            loop.slots[slot].phase = .connected(connection, since: .now())
            loop.slots[slot].failures = 0
            let waiters = state.withLock { state -> [Waiter] in
                if state.ready[slot] == nil { state.readyCount += 1 }
                state.ready[slot] = connection
                state.failing[slot] = false
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters {
                waiter.timer?.cancel()
                waiter.continuation.resume(returning: connection)
            }

        case .attemptFailed(let slot, let attempt, let error):
            loop.liveTasks -= 1
            guard case .connecting(attempt) = loop.slots[slot].phase else { return }
            guard !loop.shuttingDown else {
                loop.slots[slot].phase = .idle
                return
            }
            logger.debug("connection attempt failed", metadata: ["switchyard.grpc.error": "\(error)"])
            loop.slots[slot].failures += 1
            let allFailing = state.withLock { state -> Bool in
                state.failing[slot] = true
                state.lastFailure = error
                return state.failing.allSatisfy { $0 }
            }
            if allFailing {
                failWaiters(RPCError(code: .unavailable, message: "No connection to the server could be established.", cause: error), onlyFailFast: true)
            }
            backOff(slot: slot, loop: &loop)

        case .backoffElapsed(let slot, let token):
            guard case .backingOff(token, _) = loop.slots[slot].phase else { return }
            startAttempt(slot: slot, loop: &loop, group: &group)

        case .goingAway(let slot, let id):
            guard case .connected(let connection, _) = loop.slots[slot].phase, connection.id == id, !loop.shuttingDown else { return }
            // The old connection finishes its calls on its own; later calls get a new one.
            startAttempt(slot: slot, loop: &loop, group: &group)

        case .closed(let slot, let id):
            loop.liveTasks -= 1
            // It may have closed before `.connected` made it ready.
            state.withLock { $0.unready(slot: slot, id: id) }
            guard case .connected(let connection, let since) = loop.slots[slot].phase, connection.id == id else { return }
            if loop.shuttingDown {
                loop.slots[slot].phase = .idle
            } else if NIODeadline.now() - since < TimeAmount(configuration.backoff.initial) {
                // A server that accepts and drops connections at once is failing, not flapping
                // healthily: pace the attempts.
                loop.slots[slot].failures += 1
                backOff(slot: slot, loop: &loop)
            } else {
                startAttempt(slot: slot, loop: &loop, group: &group)
            }

        case .shutdown:
            loop.shuttingDown = true
            for slot in loop.slots.indices {
                switch loop.slots[slot].phase {
                case .backingOff(_, let timer):
                    timer.cancel()
                    loop.slots[slot].phase = .idle
                case .connected(let connection, _):
                    connection.closeGracefully()
                case .idle, .connecting:
                    break
                }
            }
            // Connections already draining (after a GOAWAY or an address change) close as
            // their calls finish; ones still connecting are let go when they connect.
        }
    }

    private func startAttempt(slot: Int, loop: inout Loop, group: inout DiscardingTaskGroup) {
        guard let address = loop.address, !loop.shuttingDown else {
            loop.slots[slot].phase = .idle
            return
        }
        let attempt = loop.token()
        loop.slots[slot].phase = .connecting(attempt: attempt)
        loop.liveTasks += 1
        group.addTask {
            await self.runConnection(slot: slot, attempt: attempt, address: address)
        }
    }

    private func backOff(slot: Int, loop: inout Loop) {
        let delay = configuration.backoff.delay(afterFailures: loop.slots[slot].failures)
        let token = loop.token()
        let timer = group.next().scheduleTask(in: TimeAmount(delay)) { [self] in
            yield(.backoffElapsed(slot: slot, token: token))
        }
        loop.slots[slot].phase = .backingOff(token: token, timer: timer)
    }

    /// One connection task: the attempt, then (if it connects) the connection's whole life.
    private func runConnection(slot: Int, attempt: UInt64, address: Address) async {
        let connection: GRPCClientConnection
        do {
            connection = try await GRPCClientConnection.connect(
                id: attempt,
                slot: slot,
                to: address,
                group: group,
                options: connectionOptions
            ) { [self] event in
                // On the connection's loop, synchronously: no call may pick it from now on.
                state.withLock { $0.unready(slot: slot, id: attempt) }
                if case .goingAway = event {
                    yield(.goingAway(slot: slot, connection: attempt))
                }
            }
        } catch {
            yield(.attemptFailed(slot: slot, attempt: attempt, RPCError(code: .unavailable, message: "Could not connect to \(address).", cause: error)))
            return
        }
        let registered = state.withLock { state -> Bool in
            guard !state.loopEnded else { return false }
            state.live[attempt] = connection
            return true
        }
        guard registered else {
            // The transport stopped while this attempt was under way.
            connection.close()
            await connection.closed()
            return
        }
        yield(.connected(slot: slot, attempt: attempt, connection))
        await connection.closed()
        _ = state.withLock { $0.live.removeValue(forKey: attempt) }
        yield(.closed(slot: slot, connection: attempt))
    }

    // MARK: Calls

    private enum Attempt<Result> {
        case done(Result)
        /// The connection stopped taking calls between being picked and opening the stream.
        case retry
    }

    package func withStream<T: Sendable>(
        descriptor: MethodDescriptor,
        options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        var options = options
        if options.timeout == nil { options.timeout = TransportCallTimeout.current }
        let deadline = options.timeout.map { NIODeadline.now() + TimeAmount($0) }
        let waitForReady = options.waitForReady ?? false
        while true {
            let connection: GRPCClientConnection
            switch state.withLock({ $0.pick(waitForReady: waitForReady) }) {
            case .connection(let picked):
                connection = picked
            case .fail(let error):
                throw error
            case .wait:
                connection = try await waitForConnection(waitForReady: waitForReady, deadline: deadline)
            }
            switch try await run(closure, on: connection, descriptor: descriptor, options: options, deadline: deadline) {
            case .done(let result):
                return result
            case .retry:
                state.withLock { $0.unready(slot: connection.slot, id: connection.id) }
            }
        }
    }

    /// Runs the call on `connection`, preferring its event loop: the request is written and
    /// the response read where the socket is, without hops.
    private func run<T: Sendable>(
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T,
        on connection: GRPCClientConnection,
        descriptor: MethodDescriptor,
        options: CallOptions,
        deadline: NIODeadline?
    ) async throws -> Attempt<T> {
        let maxResponseMessageBytes = configuration.maxResponseMessageBytes
        return try await withTaskExecutorPreference(connection.executor) {
            let stream: GRPCClientStream?
            if connection.eventLoop.inEventLoop {
                stream = connection.handler.value.openStream(
                    descriptor: descriptor,
                    options: options,
                    deadline: deadline,
                    maxResponseMessageBytes: maxResponseMessageBytes
                )
            } else {
                stream = try await connection.eventLoop.submit {
                    connection.handler.value.openStream(
                        descriptor: descriptor,
                        options: options,
                        deadline: deadline,
                        maxResponseMessageBytes: maxResponseMessageBytes
                    )
                }.get()
            }
            guard let stream else { return .retry }
            let rpc = RPCStream(
                descriptor: descriptor,
                inbound: RPCAsyncSequence(wrapping: GRPCClientStreamInbound(stream: stream)),
                outbound: RPCWriter.Closable(wrapping: GRPCClientStreamOutbound(stream: stream))
            )
            let context = ClientContext(descriptor: descriptor, remotePeer: connection.remotePeer, localPeer: connection.localPeer)
            let result: T
            do {
                result = try await closure(rpc, context)
            } catch {
                Self.finish(stream)
                throw error
            }
            Self.finish(stream)
            return .done(result)
        }
    }

    /// The caller is done with the call: anything still open of it is reset.
    private static func finish(_ stream: GRPCClientStream) {
        if stream.eventLoop.inEventLoop {
            stream.connection.callerFinished(stream)
        } else {
            stream.eventLoop.execute { stream.connection.callerFinished(stream) }
        }
    }

    /// Waits for a ready connection, bounded by `deadline` and the task's cancellation.
    private func waitForConnection(waitForReady: Bool, deadline: NIODeadline?) async throws -> GRPCClientConnection {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let pick = state.withLock { state -> State.Pick in
                    let pick = state.pick(waitForReady: waitForReady)
                    if case .wait = pick {
                        state.waiters[id] = Waiter(continuation: continuation, waitForReady: waitForReady, timer: nil)
                    }
                    return pick
                }
                switch pick {
                case .connection(let connection):
                    continuation.resume(returning: connection)
                case .fail(let error):
                    continuation.resume(throwing: error)
                case .wait:
                    if Task.isCancelled {
                        failWaiter(id, RPCError(code: .cancelled, message: "The call was cancelled while waiting for a connection."))
                        return
                    }
                    guard let deadline else { return }
                    let timer = group.next().scheduleTask(deadline: deadline) { [self] in
                        failWaiter(id, RPCError(code: .deadlineExceeded, message: "The call's deadline passed while it waited for a connection."))
                    }
                    let stored = state.withLock { state -> Bool in
                        guard state.waiters[id] != nil else { return false }
                        state.waiters[id]?.timer = timer
                        return true
                    }
                    if !stored { timer.cancel() }
                }
            }
        } onCancel: {
            failWaiter(id, RPCError(code: .cancelled, message: "The call was cancelled while waiting for a connection."))
        }
    }

    private func failWaiter(_ id: UInt64, _ error: RPCError) {
        guard let waiter = state.withLock({ $0.waiters.removeValue(forKey: id) }) else { return }
        waiter.timer?.cancel()
        waiter.continuation.resume(throwing: error)
    }

    private static func http2Configuration(_ configuration: Configuration) -> NIOHTTP2Handler.Configuration {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            // Servers may not push to gRPC clients.
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .initialWindowSize, value: configuration.streamWindowBytes),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        connection.targetWindowSize = configuration.connectionWindowBytes
        // The connection handler checks what matters of response headers in the one pass it
        // makes over them; NIOHTTP2's per-character validation costs as much again.
        connection.headerBlockValidation = .disabled
        connection.contentLengthValidation = .disabled
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = configuration.streamWindowBytes
        return NIOHTTP2Handler.Configuration(connection: connection, stream: stream)
    }
}
