package import Logging
import ServiceLifecycle

/// Gives back the stock of order attempts that failed, outside the request that failed.
///
/// The request cannot do it itself: when its deadline passes, grpc-swift cancels it, and a
/// cancelled task cannot make the release call. So failed attempts hand their order id to this
/// queue, and its `Service` makes the calls (retrying a few times) for as long as the process
/// runs. What it cannot release, inventory expires after the reservation's TTL; and a release
/// recorded first also voids a reservation that reaches inventory late.
package final class ReleaseQueue: Service, Sendable {
    private let pending: AsyncStream<(orderID: String, reason: String)>
    private let continuation: AsyncStream<(orderID: String, reason: String)>.Continuation
    private let reservations: any StockReservations
    private let logger: Logger
    private let attempts: Int

    /// - Parameters:
    ///   - reservations: Where releases go.
    ///   - attempts: Tries per release before leaving it to expiry.
    package init(reservations: any StockReservations, logger: Logger, attempts: Int = 3) {
        (pending, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        self.reservations = reservations
        self.logger = logger
        self.attempts = max(1, attempts)
    }

    /// Queues the release of `orderID`; returns at once.
    package func release(orderID: String, because reason: String) {
        continuation.yield((orderID, reason))
    }

    package func run() async throws {
        // On graceful shutdown, stop taking new work but finish what is queued.
        await withGracefulShutdownHandler {
            for await item in pending {
                await releaseWithRetries(orderID: item.orderID, reason: item.reason)
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func releaseWithRetries(orderID: String, reason: String) async {
        var delay = Duration.milliseconds(100)
        for attempt in 1...attempts {
            do {
                try await reservations.release(orderID: orderID)
                logger.info(
                    "released the stock of an order attempt that failed",
                    metadata: ["switchyard.order.id": "\(orderID)", "switchyard.reason": "\(reason)"]
                )
                return
            } catch {
                // Once the process is shutting down, one try each: whatever fails expires.
                if attempt == attempts || Task.isShuttingDownGracefully {
                    logger.warning(
                        "could not release a reservation; it will expire on its own",
                        metadata: ["switchyard.order.id": "\(orderID)", "switchyard.error": "\(error)"]
                    )
                    return
                }
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
    }
}
