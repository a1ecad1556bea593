import Logging
import NIOCore
import SwitchyardNATS
import SwitchyardTestSupport

/// Connects a client to `server` (or to every URL given) for one test.
func withClient<R: Sendable>(
    _ urls: [String], options: NATSClientOptions = .init(name: "test"), _ body: (NATSClient) async throws -> R
) async throws -> R {
    var logger = Logger(label: "nats-test")
    logger.logLevel = .info
    let client = try await NATSClient.connect(servers: urls, options: options, logger: logger)
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}

extension NATSMessage {
    var text: String { String(buffer: payload) }
}

extension ByteBuffer {
    init(text: String) { self.init(string: text) }
}

/// The next `count` elements of `sequence`, failing after `timeout` rather than hanging when
/// they do not come. (Cancelling a subscription's reader ends the subscription, so the reader
/// is only cancelled on failure.)
func collect<S: AsyncSequence & Sendable>(_ count: Int, from sequence: S, timeout: Duration = .seconds(10)) async throws -> [S.Element]
where S.Element: Sendable {
    try await withThrowingTaskGroup(of: [S.Element]?.self) { group in
        group.addTask {
            var elements: [S.Element] = []
            guard count > 0 else { return elements }
            for try await element in sequence {
                elements.append(element)
                if elements.count == count { break }
            }
            return elements
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let elements = first else {
            throw CollectTimedOut(expected: count, timeout: timeout)
        }
        return elements
    }
}

struct CollectTimedOut: Error, CustomStringConvertible {
    var expected: Int
    var timeout: Duration
    var description: String { "timed out after \(timeout) waiting for \(expected) elements" }
}
