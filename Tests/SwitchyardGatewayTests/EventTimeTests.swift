import Foundation
import SwitchyardContracts
import SwitchyardRuntime
import Testing

@Suite("Times as the contracts write them")
struct EventTimeTests {
    @Test("Every millisecond prints as itself, from a Date or from stored milliseconds, and the two agree")
    func exactMilliseconds() {
        let base: Int64 = 1_795_000_000_000
        for offset in Int64(0)..<2000 {
            let milliseconds = base + offset
            let text = EventTime.string(unixMilliseconds: milliseconds)
            #expect(text.hasSuffix(String(format: ".%03dZ", Int(offset % 1000))), "\(milliseconds) → \(text)")
            // A time a service stamped, as the order's createdAt (stored rounded) and the event's occurredAt.
            let date = Date(unixMilliseconds: milliseconds)
            #expect(EventTime.string(date) == text)
            #expect(EventTime.string(Date(unixMilliseconds: date.unixMilliseconds)) == text)
        }
        #expect(EventTime.string(unixMilliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(EventTime.string(unixMilliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }
}
