import GRDB
import SwitchyardRuntime

/// Appends events to the log, up to `maximumRows` per `INSERT` statement.
///
/// Why several rows per statement: the log's `sequence` is `AUTOINCREMENT` (a sequence is never
/// reused, even after retention has deleted every event), and SQLite reads and rewrites its
/// `sqlite_sequence` row once per statement, besides running the statement's preamble and
/// epilogue each time. One statement per event paid all of that per event; with group commit
/// handing over dozens of events at once, one statement per 32 pays it once for them all.
/// Rows are inserted in the order given, so sequences follow publication order, and a
/// duplicate id (in the log or earlier in the same statement) is skipped, as before.
enum EventInsert {
    /// Rows per statement: 7 parameters each keeps a full statement at 224 parameters, far
    /// below SQLite's limit, and its text short enough to find in GRDB's statement cache cheaply.
    static let maximumRows = 32
    private static let columnsPerRow: CInt = 7

    /// The statement for `n` rows at index `n - 1`, for 1...`maximumRows`, made once.
    private static let statements: [String] = (1...maximumRows).map { rows in
        let values = repeatElement("(?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
        return "INSERT INTO events (id, topic, subject, source, time_ms, extensions, payload) VALUES \(values) ON CONFLICT (id) DO NOTHING"
    }

    /// Appends `events` to the log, in order, `maximumRows` per statement.
    static func append(_ events: [EventEnvelope], in db: Database) throws {
        var rest = events[...]
        while !rest.isEmpty {
            let rows = rest.prefix(maximumRows)
            try insert(rows, in: db)
            rest = rest.dropFirst(rows.count)
        }
    }

    /// Inserts 1...`maximumRows` events with one statement.
    private static func insert(_ events: ArraySlice<EventEnvelope>, in db: Database) throws {
        let statement = try db.cachedStatement(sql: statements[events.count - 1])
        try RawInsert.run(statement, in: db) { bind in
            for (row, event) in events.enumerated() {
                let first = CInt(row) * columnsPerRow
                bind.text(first + 1, event.id)
                bind.text(first + 2, event.topic)
                bind.text(first + 3, event.subject)
                bind.text(first + 4, event.source)
                bind.integer(first + 5, event.time.unixMilliseconds)
                bind.text(first + 6, ExtensionsCoding.encode(event.extensions))
                bind.blob(first + 7, event.payload)
            }
        }
    }
}
