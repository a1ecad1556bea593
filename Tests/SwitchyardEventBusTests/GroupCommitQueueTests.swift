import SwitchyardEventBus
import SwitchyardTestSupport
import Synchronization
import Testing

@Suite("Group commit")
struct GroupCommitQueueTests {
    @Test("Batches queued while a commit runs are written together in the next commit, and every caller returns")
    func queuedBatchesShareACommit() async throws {
        let queue = GroupCommitQueue<Int>()
        let commits = CommitLog<Int>()
        let gate = Latch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await startHeldCommit(queue, log: commits, gate: gate, in: &group)
            for caller in 1...10 {
                group.addTask {
                    try await queue.submit([caller * 10, caller * 10 + 1]) { items in commits.append(items) }
                }
            }
            try await eventually("ten batches to queue behind it") { queue.queuedBatches == 10 }
            gate.open()
            try await group.waitForAll()
        }
        let log = commits.all
        #expect(log.count == 2, "\(log)")
        #expect(log.first == [0])
        #expect(log.last?.count == 20)
        #expect(Set(log.joined()).count == 21)
        #expect(queue.queuedBatches == 0)
    }

    @Test("A failed commit fails exactly the callers whose items it carried; later callers still commit")
    func failurePropagatesToItsRoundOnly() async throws {
        struct DiskFull: Error {}
        let queue = GroupCommitQueue<String>()
        await #expect(throws: DiskFull.self) {
            try await queue.submit(["a"]) { _ in throw DiskFull() }
        }
        let commits = CommitLog<String>()
        try await queue.submit(["b"]) { items in commits.append(items) }
        #expect(commits.all == [["b"]])
    }

    @Test("A round takes at most maxItemsPerCommit items, but never splits one caller's batch")
    func roundsAreBounded() async throws {
        let queue = GroupCommitQueue<Int>(maxItemsPerCommit: 3)
        let commits = CommitLog<Int>()
        let gate = Latch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await startHeldCommit(queue, log: commits, gate: gate, in: &group)
            group.addTask { try await queue.submit([1, 2]) { commits.append($0) } }
            try await eventually("one batch queued") { queue.queuedBatches == 1 }
            group.addTask { try await queue.submit([3, 4]) { commits.append($0) } }
            try await eventually("two batches queued") { queue.queuedBatches == 2 }
            group.addTask { try await queue.submit([5, 6, 7, 8]) { commits.append($0) } }
            try await eventually("three batches queued") { queue.queuedBatches == 3 }
            gate.open()
            try await group.waitForAll()
        }
        #expect(commits.all == [[0], [1, 2], [3, 4], [5, 6, 7, 8]])
    }
}

/// Starts a caller of `[0]` that leads and whose commit then waits at `gate`, so whatever is
/// submitted next queues behind it; returns once that commit has begun.
private func startHeldCommit(
    _ queue: GroupCommitQueue<Int>, log: CommitLog<Int>, gate: Latch, in group: inout ThrowingTaskGroup<Void, any Error>
) async throws {
    group.addTask {
        try await queue.submit([0]) { items in
            log.append(items)
            await gate.wait()
        }
    }
    try await eventually("the first commit to start") { log.count == 1 }
}

/// The batches each commit received, in order.
private final class CommitLog<Item: Sendable>: Sendable {
    private let log = Mutex<[[Item]]>([])
    func append(_ items: [Item]) { log.withLock { $0.append(items) } }
    var all: [[Item]] { log.withLock { $0 } }
    var count: Int { log.withLock { $0.count } }
}
