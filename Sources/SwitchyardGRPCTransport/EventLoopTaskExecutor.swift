package import NIOCore
import Synchronization

/// A `TaskExecutor` that runs jobs on one NIO event loop.
///
/// NIO's `EventLoop` is a `SerialExecutor`, which only helps actors; a task that merely
/// *prefers* an executor needs a `TaskExecutor`. Connection and RPC tasks prefer this one, so
/// they run on the thread that reads and writes their socket: a unary call goes frame in,
/// handler, frames out without handing work to the cooperative pool and back.
///
/// There is one per loop (`on(_:)`): a task moving from one connection's work to another's on
/// the same loop (an HTTP request calling a gRPC downstream whose connection shares the loop)
/// then keeps its executor, where two executors over one loop would cost a hop through the
/// loop's queue each way.
package final class EventLoopTaskExecutor: TaskExecutor {
    package let eventLoop: any EventLoop

    /// Every loop's executor, made on first use. Loops are few and live as long as their group;
    /// an entry keeps a shut-down loop's object (not its thread), which is a few bytes.
    private static let byLoop = Mutex<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    /// The executor of `eventLoop`.
    package static func on(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        byLoop.withLock { executors in
            let key = ObjectIdentifier(eventLoop)
            if let executor = executors[key] { return executor }
            let executor = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[key] = executor
            return executor
        }
    }

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        // Running the job "on" the task executor (rather than on the loop as a serial
        // executor) tells the runtime that nonisolated code needs no further hop.
        self.eventLoop.execute {
            job.runSynchronously(on: executor)
        }
    }
}
