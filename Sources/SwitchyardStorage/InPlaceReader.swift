import GRDBSQLite
import SwitchyardRuntime
import Synchronization

/// Read-only SQLite connections for single-statement reads run in place on the calling
/// thread, with SQLite's C API and prepared statements kept per connection.
///
/// Why not GRDB's `DatabasePool.unsafeRead`: for GetOrder, the hot read of GET /orders, the
/// pool's machinery (its reader pool and semaphore, the `DispatchQueue.sync` of the reader's
/// serialized database, GRDB's row and value wrappers) cost about three times the SELECT
/// itself (perf, `wrk` on the whole path). Here a read takes a connection from a locked stack
/// and puts it back: no queue and no thread hop, and an event loop can never wait on a reader
/// that is itself waiting for that loop, which the pool's async reads could cause.
///
/// Every read is one statement, which SQLite runs in a snapshot of its own; the statement is
/// reset when the read ends, so no read transaction outlives it and WAL checkpoints are never
/// held back. Writes stay with the database's GRDB pool. The stack grows to the largest number
/// of reads that ever ran at once (at most the threads that call it); the connections close
/// when the reader is released.
package final class InPlaceReader: Sendable {
    private let path: String
    private let busyTimeoutMilliseconds: CInt
    private let idle = Mutex<[Connection]>([])

    /// - Parameters:
    ///   - path: The database file, already created and migrated by its pool (WAL mode).
    ///   - busyTimeout: How long a read waits when SQLite answers SQLITE_BUSY (in WAL mode only
    ///     while another connection recovers the log after a crash). It blocks the calling
    ///     thread, so keep it short.
    package init(path: String, busyTimeout: Duration = .milliseconds(250)) {
        self.path = path
        self.busyTimeoutMilliseconds = CInt(clamping: busyTimeout.wholeNanoseconds / 1_000_000)
    }

    deinit {
        for connection in idle.withLock({ $0 }) { connection.close() }
    }

    /// Runs `query` with `arguments` and hands each row to `row`, on the calling thread.
    /// - Throws: `InPlaceReadError` when SQLite cannot open the file, prepare, bind or step.
    package func forEachRow(_ query: InPlaceQuery, _ arguments: [InPlaceArgument], _ row: (InPlaceRow) throws -> Void) throws {
        let connection = try takeConnection()
        var reusable = true
        defer {
            if reusable { idle.withLock { $0.append(connection) } } else { connection.close() }
        }
        do {
            try connection.run(query, arguments, row)
        } catch let error as InPlaceReadError where error.poisonsConnection {
            reusable = false
            throw error
        }
    }

    private func takeConnection() throws -> Connection {
        if let connection = idle.withLock({ $0.popLast() }) { return connection }
        return try Connection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    }

    /// One read-only connection and its prepared statements.
    // @unchecked Sendable: it holds a raw `sqlite3*` and a mutable statement cache, neither of
    // which the compiler can check. It is safe because one thread at a time uses it: a
    // connection is reachable only between `takeConnection` and the append that gives it back,
    // both under `idle`'s lock, and it is opened NOMUTEX for exactly that use.
    private final class Connection: @unchecked Sendable {
        private let handle: OpaquePointer
        private var statements: [Int: OpaquePointer] = [:]

        init(path: String, busyTimeoutMilliseconds: CInt) throws {
            var handle: OpaquePointer?
            // NOMUTEX: SQLite need not lock a connection only one thread uses at a time.
            let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
            guard code == SQLITE_OK, let handle else {
                let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "SQLite code \(code)"
                sqlite3_close_v2(handle)
                throw InPlaceReadError(code: code, message: "cannot open \(path) for reading: \(message)", poisonsConnection: true)
            }
            sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
            self.handle = handle
        }

        func close() {
            for statement in statements.values { sqlite3_finalize(statement) }
            statements.removeAll()
            sqlite3_close_v2(handle)
        }

        func run(_ query: InPlaceQuery, _ arguments: [InPlaceArgument], _ body: (InPlaceRow) throws -> Void) throws {
            let statement = try prepared(query)
            // Reset even when `body` throws: a statement left stepping holds a read snapshot.
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            for (offset, argument) in arguments.enumerated() {
                let index = CInt(offset + 1)
                let code: CInt
                switch argument {
                case .text(let value): code = sqlite3_bind_text(statement, index, value, -1, transient)
                case .integer(let value): code = sqlite3_bind_int64(statement, index, value)
                }
                guard code == SQLITE_OK else { throw failure(code, query) }
            }
            while true {
                let code = sqlite3_step(statement)
                switch code {
                case SQLITE_ROW: try body(InPlaceRow(statement: statement))
                case SQLITE_DONE: return
                default: throw failure(code, query)
                }
            }
        }

        private func prepared(_ query: InPlaceQuery) throws -> OpaquePointer {
            if let statement = statements[query.id] { return statement }
            var statement: OpaquePointer?
            // PERSISTENT: kept for the connection's life. SQLite re-prepares it by itself if a
            // migration changes the schema underneath.
            let code = sqlite3_prepare_v3(handle, query.sql, -1, CUnsignedInt(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard code == SQLITE_OK, let statement else { throw failure(code, query) }
            statements[query.id] = statement
            return statement
        }

        private func failure(_ code: CInt, _ query: InPlaceQuery) -> InPlaceReadError {
            let message = sqlite3_errmsg(handle).map { String(cString: $0) } ?? "SQLite code \(code)"
            // A busy or locked database is worth another try on the same connection; anything
            // else (a corrupt file, no memory, a misuse) gets a fresh connection next time.
            let primary = code & 0xFF
            return InPlaceReadError(
                code: code,
                message: "\(message) (reading: \(query.sql))",
                poisonsConnection: primary != SQLITE_BUSY && primary != SQLITE_LOCKED && primary != SQLITE_ERROR
            )
        }
    }
}

/// SQLite copies the bytes of a text bound with this destructor.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A statement an `InPlaceReader` prepares once per connection. Make each one once, as a
/// `static let`: its identity is what connections cache it by.
package struct InPlaceQuery: Sendable {
    private static let nextID = Atomic<Int>(0)
    fileprivate let id: Int
    package let sql: String

    package init(_ sql: String) {
        self.sql = sql
        self.id = Self.nextID.add(1, ordering: .relaxed).newValue
    }
}

/// A bound parameter of an `InPlaceQuery`.
package enum InPlaceArgument: Sendable {
    case text(String)
    case integer(Int64)
}

/// The current row of a running `InPlaceQuery`: valid only inside the closure it is given to
/// (it reads the statement, which moves on to the next row when the closure returns).
package struct InPlaceRow {
    fileprivate let statement: OpaquePointer

    /// Whether column `index` (0-based) is NULL.
    package func isNull(_ index: CInt) -> Bool {
        sqlite3_column_type(statement, index) == SQLITE_NULL
    }

    /// Column `index` as an integer (0 for NULL).
    package func integer(_ index: CInt) -> Int64 {
        sqlite3_column_int64(statement, index)
    }

    /// Column `index` as text, or `nil` for NULL.
    package func text(_ index: CInt) -> String? {
        guard let bytes = sqlite3_column_text(statement, index) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

/// SQLite refused a read; `code` is its (extended) result code.
package struct InPlaceReadError: Error, CustomStringConvertible {
    package let code: CInt
    package let message: String
    /// Whether the connection is closed rather than reused.
    let poisonsConnection: Bool

    package var description: String { "SQLite error \(code): \(message)" }
}
