package import NIOCore
import NIOPosix
import Synchronization

/// One event loop group for a whole process, when the process asks for it (`switchyard dev`
/// and `serve` do, at start): the gateway's HTTP listener, every gRPC server and every gRPC
/// client made afterwards run on it unless handed a group of their own.
///
/// Why: a request crossing the gateway, a gRPC client, a gRPC server and back used to cross a
/// thread at each step (each listener and client ran its own group), and on a busy core every
/// crossing is a context switch. With one group sized to the CPUs the process may use, a
/// request on a one-core process stays on one thread from the HTTP read to the SQLite read and
/// back. The price: a handler that blocks its loop stalls every connection on that loop, of
/// any service. Handlers here do not block beyond an in-place SQLite read, whose wait for a
/// reader is bounded (`DatabasePool.readOffEventLoop`). Tests, which run dozens of servers in
/// one process, keep a group per server.
package enum ProcessEventLoops {
    private static let group = Mutex<MultiThreadedEventLoopGroup?>(nil)

    /// Makes the process's group (once; later calls return the same one), sized by
    /// `ProcessorAffinity`, and returns it. It lives as long as the process.
    @discardableResult
    package static func share() -> any EventLoopGroup {
        group.withLock { group in
            if let group { return group }
            let made = MultiThreadedEventLoopGroup(numberOfThreads: ProcessorAffinity.usableProcessorCount)
            group = made
            return made
        }
    }

    /// The process's group, if it made one.
    package static var shared: (any EventLoopGroup)? {
        group.withLock { $0 }
    }
}
