/// Events are facts: an event type is `<entity>.<past participle>` (`order.placed`,
/// `shipment.dispatched`), never a command (`order.place`, `order.shipNow`).
package enum EventNameRule {
    /// Past participles that do not end in -ed. Extend it when a real event needs one.
    package static let irregularParticiples: Set<String> = [
        "begun", "bound", "bought", "broken", "brought", "built", "caught", "chosen", "come",
        "cut", "dealt", "done", "drawn", "driven", "fallen", "felt", "found", "frozen", "given",
        "gone", "held", "hidden", "hit", "known", "laid", "left", "lent", "let", "lost", "made",
        "meant", "met", "paid", "put", "quit", "read", "rebuilt", "redone", "remade", "repaid",
        "reset", "resent", "rewritten", "run", "said", "seen", "sent", "set", "shown", "shut",
        "sold", "spent", "split", "spoken", "spread", "stolen", "struck", "taken", "thrown",
        "told", "undone", "upheld", "won", "withdrawn", "withheld", "written",
    ]

    /// Verbs that end in -ed without being participles: `order.proceed` is a command.
    package static let presentTenseEndingInEd: Set<String> = [
        "bleed", "breed", "embed", "exceed", "feed", "heed", "need", "proceed", "seed", "shred",
        "speed", "succeed", "weed",
    ]

    /// Why `type` is not a well-formed event name; empty when it is.
    /// - Parameter type: The event type, e.g. `order.placed`.
    package static func findings(type: String) -> [ContractFinding] {
        let segments = type.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = segments.allSatisfy { segment in
            guard let first = segment.first, first.isASCII, first.isLowercase else { return false }
            return segment.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        }
        guard wellFormed, segments.count >= 2, let verb = segments.last.map(String.init) else {
            return [
                ContractFinding(
                    rule: .eventName,
                    subject: type,
                    message: "an event type is <entity>.<past participle>: lowercase letters and digits in two or more dot-separated segments (e.g. order.placed)"
                )
            ]
        }
        guard isPastParticiple(verb) else {
            return [
                ContractFinding(
                    rule: .eventName,
                    subject: type,
                    message: "\"\(verb)\" is not a past participle; an event names a fact that already happened (e.g. order.placed, not order.place). Irregular participles: EventNameRule.irregularParticiples"
                )
            ]
        }
        return []
    }

    static func isPastParticiple(_ word: String) -> Bool {
        if irregularParticiples.contains(word) { return true }
        return word.count > 3 && word.hasSuffix("ed") && !presentTenseEndingInEd.contains(word)
    }
}
