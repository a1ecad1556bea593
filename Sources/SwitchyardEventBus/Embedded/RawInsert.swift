import GRDB
import GRDBSQLite

/// Runs a cached GRDB statement with its arguments bound through SQLite's C API.
///
/// For the event log's insert, the statement every published event runs: building GRDB's
/// `StatementArguments` (an existential and a `DatabaseValue` per column) was about a third of
/// the insert's cost, measured with perf under `switchyard load bus`. The statement stays GRDB's
/// (cached, prepared once, run inside GRDB's transaction); only the binding and the step are
/// done here, and the statement is reset afterwards, as GRDB expects to find it.
enum RawInsert {
    /// Binds parameters by their 1-based index; SQLite copies what it is given.
    struct Binder {
        let handle: SQLiteStatement
        /// The first binding that failed, reported once the statement would have run.
        var failure: CInt = SQLITE_OK

        mutating func text(_ index: CInt, _ value: String?) {
            guard let value else { return record(sqlite3_bind_null(handle, index)) }
            record(sqlite3_bind_text(handle, index, value, -1, transient))
        }

        mutating func integer(_ index: CInt, _ value: Int64) {
            record(sqlite3_bind_int64(handle, index, value))
        }

        /// Bound as a blob even when empty (a nil pointer would bind NULL).
        mutating func blob(_ index: CInt, _ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return record(sqlite3_bind_zeroblob(handle, index, 0)) }
            record(bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, CInt($0.count), transient) })
        }

        private mutating func record(_ code: CInt) {
            if failure == SQLITE_OK && code != SQLITE_OK { failure = code }
        }
    }

    /// SQLite copies the bytes of a text or blob bound with this destructor.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Binds with `bind`, steps `statement` once to completion, and resets it.
    /// - Throws: `DatabaseError` with SQLite's code and message when binding or the step fails.
    static func run(_ statement: Statement, in db: Database, _ bind: (inout Binder) -> Void) throws {
        let handle = statement.sqliteStatement
        // Every parameter is bound on every run, so earlier bindings need no clearing.
        sqlite3_reset(handle)
        var binder = Binder(handle: handle)
        bind(&binder)
        let code = binder.failure == SQLITE_OK ? sqlite3_step(handle) : binder.failure
        let message = code == SQLITE_DONE ? nil : db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }
}
