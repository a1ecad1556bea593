/// A condition that did not become true before its deadline.
package struct DeadlineExceeded: Error, CustomStringConvertible {
    package var what: String
    package var timeout: Duration
    package var description: String { "timed out after \(timeout) waiting for \(what)" }
}

/// Polls `condition` until it returns a value or `timeout` passes. This is how tests wait for
/// another process or task: never a fixed sleep, always a condition with a deadline.
///
/// - Parameters:
///   - what: Named in the error when the deadline passes.
///   - timeout: The deadline, from now.
///   - interval: The pause between checks.
///   - condition: Returns `nil` to keep waiting.
package func eventually<Value>(
    _ what: String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Value?
) async throws -> Value {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if let value = try await condition() { return value }
        guard clock.now < deadline else { throw DeadlineExceeded(what: what, timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

/// `eventually` for a Boolean condition.
package func eventually(
    _ what: String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let _: Bool = try await eventually(what, timeout: timeout, interval: interval) { try await condition() ? true : nil }
}
