import Foundation
import Logging
import ServiceLifecycle

/// Returns the stock of reservations nobody confirmed in time, every `interval`. A failed
/// sweep is logged and retried at the next tick: a busy database must not stop the service.
struct ReservationExpiryService<Repository: InventoryRepository>: Service {
    let repository: Repository
    let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    func run() async throws {
        // Sleeping until the next tick is the timer itself; graceful shutdown cancels it.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await sweep()
            }
        }
    }

    func sweep() async {
        do {
            let expired = try await repository.expireReservations(now: now())
            if !expired.isEmpty {
                logger.info("expired reservations returned to stock", metadata: ["switchyard.order.ids": "\(expired)"])
            }
        } catch {
            logger.warning("reservation sweep failed; retrying next tick", metadata: ["switchyard.error": "\(error)"])
        }
    }
}
