import Foundation
package import GRDB
import ServiceLifecycle
import SwitchyardRuntime
import SwitchyardStorage

/// The embedded, durable event bus: a log in SQLite (WAL) with per-group cursors and delivery
/// records. One file serves one process (`switchyard dev`) or several on one host that open the
/// same file; SQLite's locking keeps their claims apart.
///
/// Throughput comes from batching: concurrent publishes are written together, one transaction
/// for whatever queued up during the previous commit (`GroupCommitQueue`), and a consumer
/// settles the batch it handled and claims the next in one transaction.
package final class SQLiteEventBus: EventBus {
    private let database: DatabasePool
    private let notifier = EventNotifier()
    /// Concurrent publishes share transactions (group commit).
    private let publishQueue = GroupCommitQueue<EventEnvelope>()
    /// How long an idle consumer waits before looking again, when nothing in this process
    /// told it about new events (another process may have published to the shared file).
    private let idlePoll: Duration

    /// Answers an idle consumer's "anything for me?" without the writer (`mayHaveWork`).
    private let idleCheck: InPlaceReader

    /// - Parameters:
    ///   - database: A pool opened with `SQLiteEventBus.migrations`.
    ///   - idlePoll: The longest an idle consumer sleeps between looks.
    package init(database: DatabasePool, idlePoll: Duration = .milliseconds(50)) {
        self.database = database
        self.idlePoll = idlePoll
        self.idleCheck = InPlaceReader(path: database.path)
    }

    package static var migrations: DatabaseMigrator { EventLogMigrations.migrator }

    // MARK: - Publishing

    package func publish(_ events: [EventEnvelope]) async throws {
        guard !events.isEmpty else { return }
        try await publishQueue.submit(events) { batch in
            try await database.write { db in try EventInsert.append(batch, in: db) }
        }
        notifier.notifyAll()
    }

    // MARK: - Consuming

    package func consume(group: String, topics: [String], options: ConsumerOptions, handler: @escaping EventHandler) async throws {
        let topics = Array(Set(topics)).sorted()
        guard !topics.isEmpty else { return }
        // Graceful shutdown stops claiming but lets the batch in hand finish and be
        // acknowledged (settled); only cancellation abandons it, and then leases lapse.
        try await withGracefulShutdownHandler {
            try await consumeUntilShutdown(group: group, topics: topics, options: options, handler: handler)
        } onGracefulShutdown: {
            self.notifier.notifyAll()
        }
    }

    private func consumeUntilShutdown(group: String, topics: [String], options: ConsumerOptions, handler: @escaping EventHandler) async throws {
        var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
        // Taken before each claim, so a publish after the claim looked wakes the wait below.
        var generation = notifier.generation
        var batch = stopping ? [] : try await claim(group: group, topics: topics, options: options)
        let workCheck = Self.workCheck(topicCount: topics.count)
        while true {
            if batch.isEmpty {
                if stopping { return }
                await notifier.wait(since: generation, timeout: idlePoll)
                if stopping { return }
                generation = notifier.generation
                if try mayHaveWork(workCheck, group: group, topics: topics) {
                    batch = try await claim(group: group, topics: topics, options: options)
                }
                continue
            }
            var outcomes: [Outcome] = []
            for delivered in batch {
                if Task.isCancelled { break }
                do {
                    try await handler(delivered.event)
                    outcomes.append(.handled(delivered.sequence))
                } catch {
                    outcomes.append(.failed(delivered, error))
                }
            }
            // Claimed but not handled (cancelled mid-batch): their leases lapse and another
            // instance, or this group's next run, gets them. Graceful shutdown settles the batch
            // in hand and claims no more.
            let claimingNext = !stopping
            generation = notifier.generation
            batch = try await settle(group: group, topics: topics, outcomes: outcomes, options: options, claimingNext: claimingNext)
            notifier.notifyAll()
            if !claimingNext { return }
        }
    }

    /// Whether a claim could find anything: a delivery not yet done (in flight, due for a
    /// retry, or a replayed dead letter), or an event of the topics at or past the group's
    /// cursor. When neither exists, a claim would find nothing.
    ///
    /// Why: idle consumers look every `idlePoll`, and a claim is a write transaction through
    /// GRDB's writer. Three idle consumers cost `switchyard dev` 2% of a core doing nothing,
    /// and about as much of every request's core under load. This check is one read on the
    /// calling thread; the claim, with its exact rules (leases, due times, subjects in order),
    /// runs only when it says yes.
    private func mayHaveWork(_ check: InPlaceQuery, group: String, topics: [String]) throws -> Bool {
        var found = false
        do {
            try idleCheck.forEachRow(check, [.text(group)] + topics.map { .text($0) }) { row in found = row.integer(0) != 0 }
        } catch {
            // Let the claim decide, and report, whatever made the check fail.
            return true
        }
        return found
    }

    private static func workCheck(topicCount: Int) -> InPlaceQuery {
        InPlaceQuery(
            """
            SELECT EXISTS (SELECT 1 FROM deliveries WHERE group_name = ?1 AND state != 'done')
                OR EXISTS (
                    SELECT 1 FROM events
                    WHERE topic IN (\((0..<topicCount).map { "?\($0 + 2)" }.joined(separator: ", ")))
                      AND sequence >= COALESCE((SELECT cursor FROM group_cursors WHERE group_name = ?1), 1)
                )
            """
        )
    }

    private struct Claimed: Sendable {
        var sequence: Int64
        var event: DeliveredEvent
    }

    private enum Outcome: Sendable {
        case handled(Int64)
        case failed(Claimed, any Error)
    }

    private func claim(group: String, topics: [String], options: ConsumerOptions) async throws -> [Claimed] {
        try await database.write { db in try Self.claim(group: group, topics: topics, options: options, in: db) }
    }

    /// Settles the batch just handled and, unless the consumer is stopping, claims the next in
    /// the same write transaction: one commit per batch instead of two, and the pages the
    /// settle dirtied are written to the WAL once.
    private func settle(group: String, topics: [String], outcomes: [Outcome], options: ConsumerOptions, claimingNext: Bool) async throws -> [Claimed] {
        guard !outcomes.isEmpty || claimingNext else { return [] }
        return try await database.write { db in
            try Self.settle(group: group, topics: topics, outcomes: outcomes, options: options, in: db)
            return claimingNext ? try Self.claim(group: group, topics: topics, options: options, in: db) : []
        }
    }

    private static func claim(group: String, topics: [String], options: ConsumerOptions, in db: Database) throws -> [Claimed] {
        let now = Date().unixMilliseconds
        let lease = options.ackTimeout.components.seconds * 1000 + options.ackTimeout.components.attoseconds / 1_000_000_000_000_000
        do {
            let cursor = try Self.cursor(of: group, in: db)
            // Deliveries on record: replayed dead letters below the cursor, and everything
            // handed out, retried or finished out of order at or past it.
            var states: [Int64: DeliveryState] = [:]
            // Columns by position here and below: by name, GRDB lowercases and hashes each name on
            // every read, a measurable share of consuming.
            let deliveries = try Row.fetchCursor(db.cachedStatement(sql: "SELECT sequence, attempts, state, due_ms FROM deliveries WHERE group_name = ?"), arguments: [group])
            while let row = try deliveries.next() {
                states[row[0]] = Self.state(row)
            }
            let replays = states.filter { $0.key < cursor && $0.value != .done }.keys.sorted()
            let replayCandidates = try Self.subjects(of: replays, in: db).map { ClaimCandidate(sequence: $0.0, subject: $0.1, state: states[$0.0]) }

            // Read the log past the cursor in growing windows, until the batch is full or the
            // log ends: usually one window of a batch plus what is in flight, but events of a
            // subject blocked by an in-flight one are skipped, so more may be needed.
            let candidatesPastCursor = try db.cachedStatement(
                sql: "SELECT sequence, subject FROM events WHERE topic IN \(Self.placeholders(topics.count)) AND sequence >= ? ORDER BY sequence LIMIT ?"
            )
            var window = options.batchSize + states.count
            var claims: [Claim]
            while true {
                var candidates = replayCandidates
                let rows = try Row.fetchCursor(candidatesPastCursor, arguments: StatementArguments(topics) + [cursor, window])
                var fetched = 0
                while let row = try rows.next() {
                    let sequence: Int64 = row[0]
                    candidates.append(ClaimCandidate(sequence: sequence, subject: row[1], state: states[sequence]))
                    fetched += 1
                }
                claims = DeliveryPlanning.claims(from: candidates, nowMilliseconds: now, limit: options.batchSize)
                if claims.count >= options.batchSize || fetched < window { break }
                window *= 4
            }
            guard !claims.isEmpty else { return [] }

            // First deliveries (nearly all of them) are recorded in one statement; the rest
            // (retries, expired leases) one by one.
            let fresh = claims.filter { states[$0.sequence] == nil }
            if !fresh.isEmpty {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO deliveries (group_name, sequence, attempts, state, due_ms)
                        SELECT ?, value, 1, 'in_flight', ? FROM json_each(?)
                        """
                ).execute(arguments: [group, now + lease, Self.jsonArray(fresh.map(\.sequence))])
            }
            let mark = try db.cachedStatement(
                sql: """
                    INSERT INTO deliveries (group_name, sequence, attempts, state, due_ms) VALUES (?, ?, ?, 'in_flight', ?)
                    ON CONFLICT (group_name, sequence) DO UPDATE SET attempts = excluded.attempts, state = 'in_flight', due_ms = excluded.due_ms
                    """
            )
            for claim in claims where states[claim.sequence] != nil {
                try mark.execute(arguments: [group, claim.sequence, claim.attempt, now + lease])
            }

            // The claimed events themselves, in one read.
            var events: [Int64: EventEnvelope] = [:]
            events.reserveCapacity(claims.count)
            let read = try db.cachedStatement(
                sql: """
                    SELECT sequence, id, topic, subject, source, time_ms, extensions, payload FROM events
                    WHERE sequence IN (SELECT value FROM json_each(?))
                    """
            )
            let rows = try Row.fetchCursor(read, arguments: [Self.jsonArray(claims.map(\.sequence))])
            while let row = try rows.next() {
                events[row[0]] = try Self.envelope(row, from: 1)
            }
            return claims.compactMap { claim in
                events[claim.sequence].map { Claimed(sequence: claim.sequence, event: DeliveredEvent(envelope: $0, attempt: claim.attempt)) }
            }
        }
    }

    private static func settle(group: String, topics: [String], outcomes: [Outcome], options: ConsumerOptions, in db: Database) throws {
        guard !outcomes.isEmpty else { return }
        let now = Date().unixMilliseconds
        do {
            let setState = try db.cachedStatement(sql: "UPDATE deliveries SET state = ?, attempts = ?, due_ms = ? WHERE group_name = ? AND sequence = ?")
            let handled = outcomes.compactMap { outcome -> Int64? in
                if case .handled(let sequence) = outcome { return sequence }
                return nil
            }
            if !handled.isEmpty {
                try db.cachedStatement(
                    sql: "UPDATE deliveries SET state = 'done', due_ms = 0 WHERE group_name = ? AND sequence IN (SELECT value FROM json_each(?))"
                ).execute(arguments: [group, Self.jsonArray(handled)])
            }
            for outcome in outcomes {
                switch outcome {
                case .handled:
                    continue
                case .failed(let claimed, let error):
                    let reason = "\(error)"
                    switch DeliveryPlanning.afterFailure(attempt: claimed.event.attempt, error: error, options: options, nowMilliseconds: now) {
                    case .retry(let attempts, let notBefore):
                        try setState.execute(arguments: ["retry", attempts, notBefore, group, claimed.sequence])
                    case .inFlight, .done, nil:
                        let letter = DeadLetterTopic.envelope(for: claimed.event, group: group, reason: reason)
                        try EventInsert.append([letter], in: db)
                        try db.execute(
                            sql: """
                                INSERT INTO dead_letters (id, group_name, sequence, attempts, reason, created_ms) VALUES (?, ?, ?, ?, ?, ?)
                                ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, reason = excluded.reason, replayed = 0
                                """,
                            arguments: [letter.id, group, claimed.sequence, claimed.event.attempt, reason, now]
                        )
                        try setState.execute(arguments: ["done", claimed.event.attempt, 0, group, claimed.sequence])
                    }
                }
            }
            try Self.advanceCursor(of: group, topics: topics, in: db)
        }
    }

    /// Moves the group's cursor past every settled event and deletes their delivery records.
    private static func advanceCursor(of group: String, topics: [String], in db: Database) throws {
        var cursor = try cursor(of: group, in: db)
        scan: while true {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.sequence AS sequence, d.state AS state FROM events e
                    LEFT JOIN deliveries d ON d.group_name = ? AND d.sequence = e.sequence
                    WHERE e.topic IN \(placeholders(topics.count)) AND e.sequence >= ? ORDER BY e.sequence LIMIT 512
                    """,
                arguments: [group] + StatementArguments(topics) + [cursor]
            )
            for row in rows {
                let state: String? = row[1]
                guard state == "done" else {
                    cursor = row[0]
                    break scan
                }
                cursor = (row[0] as Int64) + 1
            }
            if rows.count < 512 {
                // Everything published so far is settled: start past the end of the log.
                if rows.isEmpty || (rows.last?[1] as String?) == "done" {
                    let last = try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM events") ?? 0
                    cursor = max(cursor, last + 1)
                }
                break
            }
        }
        try db.execute(
            sql: "INSERT INTO group_cursors (group_name, cursor) VALUES (?, ?) ON CONFLICT (group_name) DO UPDATE SET cursor = excluded.cursor",
            arguments: [group, cursor]
        )
        try db.execute(sql: "DELETE FROM deliveries WHERE group_name = ? AND sequence < ? AND state = 'done'", arguments: [group, cursor])
    }

    // MARK: - Observing

    package func observe(topics: [String], fromStart: Bool) -> AsyncThrowingStream<EventEnvelope, any Error> {
        let topics = Array(Set(topics)).sorted()
        let database = self.database
        let notifier = self.notifier
        let idlePoll = self.idlePoll
        let cursor = ObserverCursor(next: fromStart ? 1 : nil)
        return AsyncThrowingStream {
            while !Task.isCancelled {
                if let buffered = cursor.takeBuffered() { return buffered }
                let generation = notifier.generation
                let start: Int64
                if let next = cursor.next {
                    start = next
                } else {
                    start = try await database.read { db in
                        (try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM events") ?? 0) + 1
                    }
                }
                let (events, last) = try await database.read { db in
                    let rows = try Row.fetchAll(
                        db,
                        sql: "SELECT sequence, id, topic, subject, source, time_ms, extensions, payload FROM events WHERE topic IN \(Self.placeholders(topics.count)) AND sequence >= ? ORDER BY sequence LIMIT 256",
                        arguments: StatementArguments(topics) + [start]
                    )
                    return (try rows.map { try Self.envelope($0) }, rows.last?["sequence"] as Int64?)
                }
                cursor.refill(events, next: last.map { $0 + 1 } ?? start)
                if cursor.isEmpty { await notifier.wait(since: generation, timeout: idlePoll) }
            }
            return nil
        }
    }

    // MARK: - Dead letters

    package var messagingSystem: String { "switchyard.sqlite" }

    package func lag(group: String, topic: String) async throws -> Int {
        try await database.read { db in
            let cursor = try Self.cursor(of: group, in: db)
            let published = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE topic = ? AND sequence >= ?", arguments: [topic, cursor]) ?? 0
            let settledAhead = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM deliveries JOIN events ON events.sequence = deliveries.sequence
                    WHERE deliveries.group_name = ? AND deliveries.state = 'done' AND deliveries.sequence >= ? AND events.topic = ?
                    """,
                arguments: [group, cursor, topic]
            ) ?? 0
            return max(0, published - settledAhead)
        }
    }

    package func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.group_name, d.attempts, d.reason, e.id AS event_id, e.topic, e.subject, e.source, e.time_ms, e.extensions, e.payload
                    FROM dead_letters d JOIN events e ON e.sequence = d.sequence
                    WHERE d.replayed = 0 ORDER BY d.created_ms, d.id LIMIT ?
                    """,
                arguments: [limit]
            ).map { row in
                DeadLetter(
                    id: row["id"],
                    group: row["group_name"],
                    attempts: row["attempts"],
                    reason: row["reason"],
                    original: try Self.envelope(row, idColumn: "event_id")
                )
            }
        }
    }

    package func replay(deadLetterID: String) async throws -> Bool {
        let replayed = try await database.write { db -> Bool in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT group_name, sequence FROM dead_letters WHERE id = ? AND replayed = 0",
                    arguments: [deadLetterID]
                )
            else { return false }
            let group: String = row["group_name"]
            let sequence: Int64 = row["sequence"]
            try db.execute(sql: "UPDATE dead_letters SET replayed = 1 WHERE id = ?", arguments: [deadLetterID])
            try db.execute(
                sql: """
                    INSERT INTO deliveries (group_name, sequence, attempts, state, due_ms) VALUES (?, ?, 0, 'retry', 0)
                    ON CONFLICT (group_name, sequence) DO UPDATE SET attempts = 0, state = 'retry', due_ms = 0
                    """,
                arguments: [group, sequence]
            )
            return true
        }
        if replayed { notifier.notifyAll() }
        return replayed
    }

    // MARK: - Retention

    /// Deletes events every group has settled that are older than `age`, keeping those a
    /// dead letter still refers to.
    /// - Returns: how many were deleted.
    package func deleteSettledEvents(olderThan age: Duration) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-Double(age.components.seconds)).unixMilliseconds
        return try await database.write { db in
            let floor = try Int64.fetchOne(db, sql: "SELECT MIN(cursor) FROM group_cursors") ?? 0
            try db.execute(
                sql: """
                    DELETE FROM events WHERE sequence < ? AND time_ms < ?
                    AND sequence NOT IN (SELECT sequence FROM dead_letters WHERE replayed = 0)
                    AND sequence NOT IN (SELECT sequence FROM deliveries WHERE state != 'done')
                    """,
                arguments: [floor, cutoff]
            )
            return db.changesCount
        }
    }

    // MARK: - Rows

    private static func cursor(of group: String, in db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT cursor FROM group_cursors WHERE group_name = ?"), arguments: [group]) ?? 1
    }

    private static func subjects(of sequences: [Int64], in db: Database) throws -> [(Int64, String?)] {
        try sequences.compactMap { sequence in
            try Row.fetchOne(db, sql: "SELECT sequence, subject FROM events WHERE sequence = ?", arguments: [sequence])
                .map { ($0["sequence"], $0["subject"]) }
        }
    }

    /// A delivery from a row of (sequence, attempts, state, due_ms).
    private static func state(_ row: Row) -> DeliveryState {
        let attempts: Int = row[1]
        let due: Int64 = row[3]
        switch row[2] as String {
        case "in_flight": return .inFlight(attempts: attempts, leaseUntilMilliseconds: due)
        case "retry": return .retry(attempts: attempts, notBeforeMilliseconds: due)
        default: return .done
        }
    }

    /// The envelope in columns `offset…offset+6` (id, topic, subject, source, time_ms,
    /// extensions, payload): by position, which is cheaper than by name on the hot path.
    private static func envelope(_ row: Row, from offset: Int) throws -> EventEnvelope {
        let payload: Data = row[offset + 6]
        return EventEnvelope(
            id: row[offset],
            type: row[offset + 1],
            source: row[offset + 3],
            time: Date(unixMilliseconds: row[offset + 4]),
            subject: row[offset + 2],
            payload: Array(payload),
            extensions: try ExtensionsCoding.decode(row[offset + 5])
        )
    }

    private static func envelope(_ row: Row, idColumn: String = "id") throws -> EventEnvelope {
        let payload: Data = row["payload"]
        return EventEnvelope(
            id: row[idColumn],
            type: row["topic"],
            source: row["source"],
            time: Date(unixMilliseconds: row["time_ms"]),
            subject: row["subject"],
            payload: Array(payload),
            extensions: try ExtensionsCoding.decode(row["extensions"])
        )
    }

    /// `[1,2,3]`: a list of sequences as one statement argument, for `json_each`.
    private static func jsonArray(_ sequences: [Int64]) -> String {
        "[" + sequences.map(String.init).joined(separator: ",") + "]"
    }

    private static func placeholders(_ count: Int) -> String {
        "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }
}
