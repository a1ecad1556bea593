import NIOCore

/// A `TaskExecutor` that runs jobs on one NIO event loop.
///
/// NIO's `EventLoop` is a `SerialExecutor`, which only helps actors; a task that merely
/// *prefers* an executor needs a `TaskExecutor`. Connection and RPC tasks prefer this one, so
/// they run on the thread that reads and writes their socket: a unary call goes frame in,
/// handler, frames out without handing work to the cooperative pool and back.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        // Running the job "on" the task executor (rather than on the loop as a serial
        // executor) tells the runtime that nonisolated code needs no further hop.
        self.eventLoop.execute {
            job.runSynchronously(on: executor)
        }
    }
}
