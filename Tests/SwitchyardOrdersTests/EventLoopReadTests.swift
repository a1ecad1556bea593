import Dispatch
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import SwitchyardGRPCTransport
import SwitchyardStorage
import SwitchyardTestSupport
import Synchronization
import Testing

/// GetOrder reads the orders database in place on its connection's event loop, so no other
/// read of that pool may need the loop to give its reader connection back. Found under
/// overload, where the orders service stopped answering for good.
@Suite("Reads beside an event loop that reads in place")
struct EventLoopReadTests {
    @Test("An in-place read on an event loop gets the reader an async read of the loop's own task holds")
    func inPlaceReadIsNotDeadlocked() async throws {
        let path = try PackagePaths.makeTemporaryDirectory().appendingPathComponent("orders.sqlite").path
        let pool = try SQLiteDatabase.open(
            configuration: .init(path: path, maximumReaderCount: 1), migrations: DatabaseMigrator(), logger: Logger(label: "test")
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let asyncReadHoldsReader = Latch()
        let loopIsBlocked = DispatchSemaphore(value: 0)
        let inPlaceReadDone = Latch()

        // A task of the loop (as a gRPC handler is: the transport's executor) reads asynchronously and holds the only reader
        // until the loop is busy with an in-place read that needs it.
        let asyncRead = Task {
            try await withTaskExecutorPreference(EventLoopTaskExecutor.on(loop)) {
                try await pool.readOffEventLoop { _ in
                    asyncReadHoldsReader.open()
                    loopIsBlocked.wait()
                    return 1
                }
            }
        }
        await asyncReadHoldsReader.wait()
        loop.execute {
            loopIsBlocked.signal()
            // Blocks the loop until the async read gives the reader back, which it can only do
            // if finishing does not need this loop.
            _ = try? pool.read { _ in 2 }
            inPlaceReadDone.open()
        }
        try await eventually("the in-place read to get the reader", timeout: .seconds(20)) { inPlaceReadDone.isOpen }
        #expect(try await asyncRead.value == 1)
        try await group.shutdownGracefully()
    }
}
