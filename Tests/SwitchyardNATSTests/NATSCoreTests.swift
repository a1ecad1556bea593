import Logging
import NIOCore
import SwitchyardNATS
import SwitchyardTestSupport
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1)))
struct NATSCoreTests {
    @Test func publishAndSubscribeWithHeaders() async throws {
        try await withNATSServer(jetStream: false) { server in
            try await withClient([server.url]) { client in
                let subscription = try await client.subscribe(subject: "greet.*")
                var headers = NATSHeaders()
                headers.append(name: "X-Trace", value: "abc")
                headers.append(name: "multi", value: "1")
                headers.append(name: "multi", value: "2")
                try client.publish(subject: "greet.one", payload: ByteBuffer(text: "hello"))
                try client.publish(subject: "greet.two", payload: ByteBuffer(text: "with headers"), headers: headers, reply: "answer.here")
                let messages = try await collect(2, from: subscription)
                #expect(messages[0].subject == "greet.one")
                #expect(messages[0].text == "hello")
                #expect(messages[0].headers == nil)
                #expect(messages[1].text == "with headers")
                #expect(messages[1].reply == "answer.here")
                #expect(messages[1].headers?["X-Trace"] == "abc")
                #expect(messages[1].headers?["x-trace"] == "abc")
                #expect(messages[1].headers?.values(for: "multi") == ["1", "2"])
                #expect(messages[1].headers?.fields.first?.name == "X-Trace")
            }
        }
    }

    @Test func invalidSubjectsAreErrors() async throws {
        try await withNATSServer(jetStream: false) { server in
            try await withClient([server.url]) { client in
                for subject in ["", "a..b", ".a", "a.", "a b", "a\tb", "a\r\nb"] {
                    #expect(throws: NATSError.invalidSubject(subject)) {
                        try client.publish(subject: subject, payload: [1])
                    }
                }
                // The connection is still fine.
                try await client.flush()
            }
        }
    }

    @Test func queueGroupsShareMessages() async throws {
        try await withNATSServer(jetStream: false) { server in
            try await withClient([server.url]) { client in
                let first = try await client.subscribe(subject: "work", queue: "workers")
                let second = try await client.subscribe(subject: "work", queue: "workers")
                let total = 200
                for index in 0..<total { try client.publish(subject: "work", payload: ByteBuffer(text: "\(index)")) }
                try await client.flush()
                let counter = Counter()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for subscription in [first, second] {
                        group.addTask {
                            for await _ in subscription { if counter.increment() == total { return } }
                        }
                    }
                    try await eventually("all queue messages", timeout: .seconds(10)) { counter.value == total }
                    first.unsubscribe()
                    second.unsubscribe()
                    try await group.waitForAll()
                }
                #expect(counter.value == total)
            }
        }
    }

    @Test func requestReplyAndNoResponders() async throws {
        try await withNATSServer(jetStream: false) { server in
            try await withClient([server.url]) { client in
                let service = try await client.subscribe(subject: "echo")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await request in service {
                            guard let reply = request.reply else { continue }
                            try client.publish(subject: reply, payload: ByteBuffer(text: "echo: " + request.text))
                        }
                    }
                    let replies = try await withThrowingTaskGroup(of: String.self) { requests in
                        for index in 0..<20 {
                            requests.addTask { try await client.request(subject: "echo", payload: ByteBuffer(text: "\(index)")).text }
                        }
                        var replies: Set<String> = []
                        for try await reply in requests { replies.insert(reply) }
                        return replies
                    }
                    #expect(replies == Set((0..<20).map { "echo: \($0)" }))
                    service.unsubscribe()
                    try await group.waitForAll()
                }
                await #expect(throws: NATSError.noResponders(subject: "nobody.home")) {
                    _ = try await client.request(subject: "nobody.home", payload: [], timeout: .seconds(5))
                }
                // A subscriber that never answers: a timeout.
                let silent = try await client.subscribe(subject: "silent")
                await #expect(throws: NATSError.timeout) {
                    _ = try await client.request(subject: "silent", payload: [], timeout: .milliseconds(200))
                }
                silent.unsubscribe()
            }
        }
    }

    @Test func requestCancellation() async throws {
        try await withNATSServer(jetStream: false) { server in
            try await withClient([server.url]) { client in
                let silent = try await client.subscribe(subject: "silent")
                await #expect(throws: CancellationError.self) {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { _ = try await client.request(subject: "silent", payload: [], timeout: .seconds(30)) }
                        group.cancelAll()
                        try await group.waitForAll()
                    }
                }
                silent.unsubscribe()
            }
        }
    }

    @Test func subscriptionsEndWhenClientCloses() async throws {
        try await withNATSServer(jetStream: false) { server in
            var logger = Logger(label: "nats-test")
            logger.logLevel = .warning
            let client = try await NATSClient.connect(servers: [server.url], logger: logger)
            let subscription = try await client.subscribe(subject: "x")
            await client.close()
            var count = 0
            for await _ in subscription { count += 1 }
            #expect(count == 0)
            #expect(throws: NATSError.connectionClosed) { try client.publish(subject: "x", payload: [1]) }
        }
    }

    @Test func reconnectsAndResubscribesAfterRestart() async throws {
        let server = try await NATSServerProcess.start(jetStream: false)
        var options = NATSClientOptions(name: "reconnect-test")
        options.reconnectBackoff = .init(initial: .milliseconds(20), maximum: .milliseconds(200))
        var restarted: NATSServerProcess?
        defer {
            server.stop()
            restarted?.stop()
        }
        try await withClient([server.url], options: options) { client in
            let subscription = try await client.subscribe(subject: "survives")
            try client.publish(subject: "survives", payload: ByteBuffer(text: "before"))
            #expect(try await collect(1, from: subscription).map(\.text) == ["before"])

            server.stop()
            try await eventually("client notices the disconnect", timeout: .seconds(10)) { !client.isConnected }
            // Publishes while disconnected are buffered and sent after the reconnect.
            try client.publish(subject: "survives", payload: ByteBuffer(text: "while down"))
            restarted = try await server.restart()
            try await eventually("client reconnects", timeout: .seconds(15)) { client.reconnectCount >= 1 && client.isConnected }
            try client.publish(subject: "survives", payload: ByteBuffer(text: "after"))
            #expect(try await collect(2, from: subscription).map(\.text) == ["while down", "after"])
        }
    }

    @Test func connectFailsWhenNoServerListens() async throws {
        let port = try freeLoopbackPort()
        var options = NATSClientOptions()
        options.connectTimeout = .seconds(2)
        await #expect(throws: NATSError.self) {
            _ = try await NATSClient.connect(servers: ["nats://127.0.0.1:\(port)"], options: options, logger: Logger(label: "t"))
        }
    }
}

/// A count shared by tasks.
final class Counter: Sendable {
    private let storage = Mutex(0)
    func increment() -> Int { storage.withLock { $0 += 1; return $0 } }
    var value: Int { storage.withLock { $0 } }
}
