import Foundation
import Logging
import NIOCore
import Synchronization
import NIOPosix

/// Connecting, the handshake's outcome, losing the connection and reconnecting. Everything
/// here runs on the client's event loop, driven by futures and scheduled tasks.
extension NATSClient {
    /// Tries each configured server once, in order.
    func connectInitially() -> EventLoopFuture<Void> {
        let servers = lifecycle.withLock { $0.servers }
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.connectInitially(servers: servers, index: 0, lastError: nil, promise: promise) }
        return promise.futureResult
    }

    private func connectInitially(servers: [NATSServerAddress], index: Int, lastError: (any Error)?, promise: EventLoopPromise<Void>) {
        guard index < servers.count, !isClosed else {
            let reason = "\(servers.map(\.description)): \(lastError.map { "\($0)" } ?? "closed")"
            shutDown(reason: .connectFailed(reason))
            promise.fail(NATSError.connectFailed(reason))
            return
        }
        lifecycle.withLock { $0.serverIndex = index }
        connectAttempt(to: servers[index]).whenComplete { result in
            switch result {
            case .success: promise.succeed()
            case .failure(let error): self.connectInitially(servers: servers, index: index + 1, lastError: error, promise: promise)
            }
        }
    }

    /// One TCP connect and handshake; succeeds once the server answered our PING (the client is
    /// then connected), fails on error, close or timeout.
    func connectAttempt(to server: NATSServerAddress) -> EventLoopFuture<Void> {
        let established = eventLoop.makePromise(of: Void.self)
        let timeout = options.connectTimeout.timeAmount
        let connectOptions = NATSCommandEncoder.ConnectOptions(name: options.name)
        let connectJSON = (try? JSONEncoder().encode(connectOptions)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let logger = self.logger
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NATSConnectionHandler(client: self, connectJSON: connectJSON, established: established, logger: logger)
                    )
                }
            }
            .connect(host: server.host, port: server.port)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    established.fail(error)
                case .success(let channel):
                    let timer = channel.eventLoop.scheduleTask(in: timeout) {
                        established.fail(NATSError.timeout)
                    }
                    established.futureResult.whenComplete { result in
                        timer.cancel()
                        if case .failure = result { channel.close(promise: nil) }
                    }
                }
            }
        return established.futureResult
    }

    /// The handshake of `channel` completed: re-subscribe, then release the buffered operations.
    func connectionEstablished(channel: any Channel, info: NATSServerInfo?) {
        if isClosed {
            channel.close(promise: nil)
            return
        }
        // SUBs go straight to the channel, ahead of anything buffered while disconnected.
        let subscriptions = registry.withLock { $0.subscriptions }
        var subs = channel.allocator.buffer(capacity: 64 * max(1, subscriptions.count))
        for (sid, record) in subscriptions.sorted(by: { $0.key < $1.key }) {
            try? NATSCommandEncoder.writeSubscribe(subject: record.subject, queue: record.queue, sid: sid, into: &subs)
        }
        channel.write(subs, promise: nil)
        outbound.withLock { state in
            state.phase = .connected(channel)
            state.outstandingKeepalives = 0
            if let maxPayload = info?.maxPayload, maxPayload > 0 { state.maxPayload = maxPayload }
        }
        drainOutbound()
        channel.flush()

        let interval = options.pingInterval.timeAmount
        let keepalive = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
            guard let self else { return task.cancel() }
            self.sendKeepalive(on: channel)
        }
        let (wasReconnect, server, oldKeepalive) = lifecycle.withLock { lifecycle in
            let wasReconnect = lifecycle.everConnected
            lifecycle.everConnected = true
            lifecycle.serverInfo = info
            let old = lifecycle.keepaliveTask
            lifecycle.keepaliveTask = keepalive
            return (wasReconnect, lifecycle.servers.indices.contains(lifecycle.serverIndex) ? lifecycle.servers[lifecycle.serverIndex] : nil, old)
        }
        oldKeepalive?.cancel()
        if let info { learnServers(from: info) }
        let metadata: Logger.Metadata = ["server": "\(server.map(\.description) ?? "?")", "server_name": "\(info?.serverName ?? "?")"]
        if wasReconnect {
            countReconnect()
            logger.info("NATS reconnected", metadata: metadata)
        } else {
            logger.debug("NATS connected", metadata: metadata)
        }
    }

    /// The connected channel closed (server gone, protocol error, stale connection).
    func connectionLost(channel: any Channel, error: (any Error)?) {
        let lostWaiters = outbound.withLock { state -> [OutboundState.PongWaiter]? in
            guard let current = state.connectedChannel, current === channel else { return nil }
            state.phase = .disconnected
            state.flushScheduled = false
            state.outstandingKeepalives = 0
            let lost = Array(state.pongWaitersOnWire)
            state.pongWaitersOnWire.removeAll()
            return lost
        }
        guard let lostWaiters else { return }
        for case .flush(let promise) in lostWaiters { promise.fail(NATSError.disconnected) }
        let (server, keepalive) = lifecycle.withLock { lifecycle in
            defer { lifecycle.keepaliveTask = nil }
            return (lifecycle.servers.indices.contains(lifecycle.serverIndex) ? lifecycle.servers[lifecycle.serverIndex] : nil, lifecycle.keepaliveTask)
        }
        keepalive?.cancel()
        logger.warning(
            "NATS disconnected; reconnecting",
            metadata: ["server": "\(server.map(\.description) ?? "?")", "error": "\(error.map { "\($0)" } ?? "connection closed")"]
        )
        scheduleReconnect(attempt: 0)
    }

    /// Tries the next server after a backoff; gives up (closing the client) after
    /// `maxReconnectAttempts` failures in a row.
    func scheduleReconnect(attempt: Int) {
        guard !isClosed else { return }
        if let maximum = options.maxReconnectAttempts, attempt >= maximum {
            logger.error("NATS gave up reconnecting", metadata: ["attempts": "\(attempt)"])
            shutDown(reason: .connectFailed("gave up after \(attempt) reconnect attempts"))
            return
        }
        let (server, delay) = lifecycle.withLock { lifecycle -> (NATSServerAddress?, Duration) in
            guard !lifecycle.servers.isEmpty else { return (nil, .zero) }
            lifecycle.serverIndex = (lifecycle.serverIndex + 1) % lifecycle.servers.count
            let delay = options.reconnectBackoff.delay(attempt: attempt, serverCount: lifecycle.servers.count)
            return (lifecycle.servers[lifecycle.serverIndex], delay)
        }
        guard let server else { return }
        let task = eventLoop.scheduleTask(in: delay.timeAmount) { [self] in
            guard !isClosed else { return }
            connectAttempt(to: server).whenFailure { [self] error in
                logger.debug("NATS reconnect attempt failed", metadata: ["server": "\(server)", "error": "\(error)"])
                scheduleReconnect(attempt: attempt + 1)
            }
        }
        lifecycle.withLock { $0.reconnectTask = task }
        // `close()` may have run between the check above and storing the task.
        if isClosed { task.cancel() }
    }

    /// Adds the cluster's other client addresses (INFO `connect_urls`) to the server list.
    func learnServers(from info: NATSServerInfo) {
        guard let urls = info.connectURLs, !urls.isEmpty else { return }
        let learned = urls.compactMap { try? NATSServerAddress(parsing: $0) }
        let added = lifecycle.withLock { lifecycle -> [NATSServerAddress] in
            var added: [NATSServerAddress] = []
            for address in learned where !lifecycle.servers.contains(address) {
                lifecycle.servers.append(address)
                added.append(address)
            }
            return added
        }
        if !added.isEmpty { logger.debug("NATS learned servers", metadata: ["servers": "\(added.map(\.description))"]) }
    }

    /// INFO after the handshake (cluster changes, lame duck mode).
    func serverInfoUpdated(_ info: NATSServerInfo) {
        learnServers(from: info)
        if let maxPayload = info.maxPayload, maxPayload > 0 { outbound.withLock { $0.maxPayload = maxPayload } }
        if info.lameDuckMode == true { logger.info("NATS server entering lame duck mode") }
    }

    /// PINGs the server; closes the connection (to reconnect) when too many went unanswered.
    func sendKeepalive(on channel: any Channel) {
        let maxOutstanding = options.maxOutstandingPings
        let stale = outbound.withLock { state -> Bool in
            guard let current = state.connectedChannel, current === channel else { return false }
            if state.outstandingKeepalives >= maxOutstanding { return true }
            state.outstandingKeepalives += 1
            NATSCommandEncoder.writePing(into: &state.buffer)
            state.pongWaitersInBuffer.append(.keepalive)
            return false
        }
        if stale {
            logger.warning("NATS connection stale (PINGs unanswered); reconnecting")
            channel.close(promise: nil)
        } else {
            drainOutbound()
        }
    }
}
