package import Logging
package import ServiceLifecycle

extension Logger {
    /// A logger that drops everything, for services under test.
    package static var silent: Logger { Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }) }
}

/// Runs `services` in a ServiceGroup (without signal handling) for the duration of `body`,
/// then shuts them down gracefully and waits for them to finish. `body` receives the group so
/// it can trigger that shutdown itself and watch what happens.
package func withRunningServices<Result: Sendable>(
    _ services: [any Service],
    logger: Logger = .silent,
    body: (ServiceGroup) async throws -> Result
) async throws -> Result {
    let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body(group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
