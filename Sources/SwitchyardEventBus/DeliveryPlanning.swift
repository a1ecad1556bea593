/// Where one event stands for one consumer group.
package enum DeliveryState: Sendable, Hashable {
    /// Handed to a consumer instance, which must acknowledge before `leaseUntil` (Unix ms).
    case inFlight(attempts: Int, leaseUntilMilliseconds: Int64)
    /// Failed; deliver again from `notBeforeMilliseconds`.
    case retry(attempts: Int, notBeforeMilliseconds: Int64)
    /// Handled (or dead-lettered): never delivered again.
    case done
}

/// An event a group may be due to receive, as the engines see it when they claim.
package struct ClaimCandidate: Sendable, Hashable {
    package var sequence: Int64
    package var subject: String?
    /// `nil` when the group has never been given it.
    package var state: DeliveryState?

    package init(sequence: Int64, subject: String?, state: DeliveryState?) {
        self.sequence = sequence
        self.subject = subject
        self.state = state
    }
}

/// A claim: deliver `sequence` now, as delivery number `attempt`.
package struct Claim: Sendable, Hashable {
    package var sequence: Int64
    package var attempt: Int
}

/// The delivery rules every engine applies, written once so the in-memory and SQLite engines
/// cannot drift apart.
package enum DeliveryPlanning {
    /// Picks what to deliver next from `candidates` (in sequence order), at most `limit`:
    /// - never-delivered events, due retries, and in-flight events whose lease ran out (their
    ///   consumer died) are claimable;
    /// - an event waits while an earlier event with the same subject is in flight, waiting to
    ///   be retried, or claimed in this same batch, so each subject stays in order per group.
    package static func claims(from candidates: [ClaimCandidate], nowMilliseconds now: Int64, limit: Int) -> [Claim] {
        var claims: [Claim] = []
        var blockedSubjects = Set<String>()
        for candidate in candidates where claims.count < limit {
            let claimAttempt: Int?
            switch candidate.state {
            case nil:
                claimAttempt = 1
            case .done:
                continue
            case .inFlight(let attempts, let leaseUntil):
                claimAttempt = leaseUntil <= now ? attempts + 1 : nil
            case .retry(let attempts, let notBefore):
                claimAttempt = notBefore <= now ? attempts + 1 : nil
            }
            if let subject = candidate.subject {
                let blocked = blockedSubjects.contains(subject)
                blockedSubjects.insert(subject)
                if blocked { continue }
            }
            if let claimAttempt {
                claims.append(Claim(sequence: candidate.sequence, attempt: claimAttempt))
            }
        }
        return claims
    }

    /// The state after a delivery failed: a retry after backoff, or `nil` when attempts are
    /// used up, or the error is not worth retrying, and the event must be dead-lettered.
    package static func afterFailure(attempt: Int, error: any Error, options: ConsumerOptions, nowMilliseconds now: Int64) -> DeliveryState? {
        guard attempt < options.maxAttempts, !(error is any UnretryableEventError) else { return nil }
        let backoff = options.backoff(afterAttempt: attempt)
        let milliseconds = backoff.components.seconds * 1000 + backoff.components.attoseconds / 1_000_000_000_000_000
        return .retry(attempts: attempt, notBeforeMilliseconds: now + max(1, milliseconds))
    }
}
