import Dispatch
import Foundation
import GRDB
import Logging
import SwitchyardStorage
import SwitchyardTestSupport
import Synchronization
import Testing

/// The connections GetOrder reads through, beside the service's GRDB pool.
@Suite("In-place SQLite reads")
struct InPlaceReaderTests {
    private static let allNumbers = InPlaceQuery("SELECT n, label FROM numbers ORDER BY n")
    private static let oneNumber = InPlaceQuery("SELECT label FROM numbers WHERE n = ?")
    private static let missingTable = InPlaceQuery("SELECT x FROM no_such_table")

    private func openPool() throws -> DatabasePool {
        let path = try PackagePaths.makeTemporaryDirectory().appendingPathComponent("numbers.sqlite").path
        var migrations = DatabaseMigrator()
        migrations.registerMigration("numbers") { db in
            try db.execute(sql: "CREATE TABLE numbers (n INTEGER PRIMARY KEY, label TEXT)")
        }
        return try SQLiteDatabase.open(configuration: .init(path: path), migrations: migrations, logger: Logger(label: "test"))
    }

    private func numbers(_ reader: InPlaceReader) throws -> [Int64] {
        var found: [Int64] = []
        try reader.forEachRow(Self.allNumbers, []) { row in found.append(row.integer(0)) }
        return found
    }

    @Test("Each read sees everything committed before it, on a connection kept from earlier reads")
    func readsAreFresh() throws {
        let pool = try openPool()
        let reader = InPlaceReader(path: pool.path)
        try pool.write { db in try db.execute(sql: "INSERT INTO numbers VALUES (1, 'one')") }
        #expect(try numbers(reader) == [1])
        try pool.write { db in try db.execute(sql: "INSERT INTO numbers VALUES (2, NULL)") }
        #expect(try numbers(reader) == [1, 2])

        var labels: [String?] = []
        for n: Int64 in [1, 2, 3] {
            try reader.forEachRow(Self.oneNumber, [.integer(n)]) { row in labels.append(row.isNull(0) ? nil : row.text(0)) }
        }
        #expect(labels == ["one", nil])
    }

    // A statement left stepping would keep its read snapshot, and a TRUNCATE checkpoint could
    // not finish while it does (SQLite reports the checkpoint busy).
    @Test("A read that stops early, by throwing, holds no snapshot that blocks a checkpoint")
    func abandonedReadReleasesSnapshot() throws {
        let pool = try openPool()
        let reader = InPlaceReader(path: pool.path)
        try pool.write { db in
            for n in 1...10 { try db.execute(sql: "INSERT INTO numbers VALUES (?, 'n')", arguments: [n]) }
        }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try reader.forEachRow(Self.allNumbers, []) { _ in throw Stop() }
        }
        try pool.write { db in try db.execute(sql: "INSERT INTO numbers VALUES (11, 'n')") }
        let busy = try pool.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")?[0] as Int?
        }
        #expect(busy == 0)
        #expect(try numbers(reader).count == 11)
    }

    @Test("SQLite's errors come back as errors, and the reader keeps working")
    func errorsAreReported() throws {
        let pool = try openPool()
        let reader = InPlaceReader(path: pool.path)
        let error = try #require(throws: InPlaceReadError.self) {
            try reader.forEachRow(Self.missingTable, []) { _ in }
        }
        #expect(error.description.contains("no such table"))
        #expect(try numbers(reader) == [])

        let nowhere = InPlaceReader(path: "/nonexistent-directory/none.sqlite")
        #expect(throws: InPlaceReadError.self) { try nowhere.forEachRow(Self.allNumbers, []) { _ in } }
    }

    @Test("Reads from many threads at once each get a connection and the right rows")
    func concurrentReads() throws {
        let pool = try openPool()
        try pool.write { db in
            for n in 1...50 { try db.execute(sql: "INSERT INTO numbers VALUES (?, ?)", arguments: [n, "label-\(n)"]) }
        }
        let reader = InPlaceReader(path: pool.path)
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            for round in 0..<200 {
                let n = Int64((worker * 200 + round) % 50 + 1)
                var label: String?
                do {
                    try reader.forEachRow(Self.oneNumber, [.integer(n)]) { row in label = row.text(0) }
                } catch {
                    label = "\(error)"
                }
                if label != "label-\(n)" { mismatches.withLock { $0 += 1 } }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
    }
}
