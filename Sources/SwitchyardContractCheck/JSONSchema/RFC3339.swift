/// RFC 3339 §5.6 `date-time`, the format JSON Schema's `date-time` names:
/// `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)`, with real calendar days and `T`/`Z` in either case.
/// Hand-written because Foundation's ISO 8601 parsing accepts forms RFC 3339 does not (and
/// rejects leap seconds, which it allows).
enum RFC3339 {
    static func isDateTime(_ text: String) -> Bool {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"),
            let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.digits(2), scanner.skip(":"),
            let minute = scanner.digits(2), scanner.skip(":"),
            let second = scanner.digits(2)
        else { return false }
        if scanner.skip(".") {
            guard scanner.digits(1) != nil else { return false }
            while scanner.digits(1) != nil {}
        }
        if scanner.skip("Z") || scanner.skip("z") {
            // UTC.
        } else if scanner.skip("+") || scanner.skip("-") {
            guard let offsetHour = scanner.digits(2), scanner.skip(":"), let offsetMinute = scanner.digits(2),
                offsetHour <= 23, offsetMinute <= 59
            else { return false }
        } else {
            return false
        }
        guard scanner.isAtEnd, (1...12).contains(month), hour <= 23, minute <= 59, second <= 60 else { return false }
        return (1...daysIn(month: month, year: year)).contains(day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { position == bytes.count }

        mutating func skip(_ character: Character) -> Bool {
            guard position < bytes.count, let ascii = character.asciiValue, bytes[position] == ascii else { return false }
            position += 1
            return true
        }

        /// Exactly `count` ASCII digits as a number, or `nil` (and nothing consumed).
        mutating func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<(position + count)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            position += count
            return value
        }
    }
}
