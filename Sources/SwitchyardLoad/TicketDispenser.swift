import Synchronization

/// Hands out the requests of a run, one ticket each, to whichever worker asks first.
///
/// A ticket carries the instant its request is due. In open mode ticket `n` is due at
/// `start + n / rate`, whatever happened to earlier tickets; a worker that takes a ticket late
/// sends at once and the lateness counts in that request's latency. That is what corrects for
/// coordinated omission: a server that stalls for a second delays every request due in that
/// second, and the percentiles show it. In closed mode a ticket is due when it is taken.
final class TicketDispenser: Sendable {
    struct Ticket: Sendable, Hashable {
        var number: Int
        /// When the request should start; latency is measured from here.
        var due: ContinuousClock.Instant
    }

    private let start: ContinuousClock.Instant
    private let interval: Duration?
    private let endAt: ContinuousClock.Instant?
    private let maxTickets: Int?
    private let issued = Mutex(0)

    /// - Parameters:
    ///   - start: When ticket 0 is due.
    ///   - ratePerSecond: The open-loop rate; `nil` for closed loop.
    ///   - limit: When to stop issuing.
    init(start: ContinuousClock.Instant, ratePerSecond: Double?, limit: LoadLimit) {
        self.start = start
        self.interval = ratePerSecond.map { .nanoseconds(Int64((1e9 / max($0, 0.001)).rounded())) }
        switch limit {
        case .duration(let duration):
            endAt = start.advanced(by: duration)
            maxTickets = nil
        case .count(let count):
            endAt = nil
            maxTickets = count
        }
    }

    /// The next ticket, or `nil` when the run is over.
    func next(now: ContinuousClock.Instant = .now) -> Ticket? {
        let number: Int? = issued.withLock { issued in
            if let maxTickets, issued >= maxTickets { return nil }
            defer { issued += 1 }
            return issued
        }
        guard let number else { return nil }
        let due = interval.map { start.advanced(by: $0 * number) } ?? now
        if let endAt, due >= endAt || (interval == nil && now >= endAt) { return nil }
        return Ticket(number: number, due: due)
    }

    /// Tickets issued so far.
    var count: Int { issued.withLock { $0 } }
}
