/// Subjects the client sends are checked first, so a bad one is an error for the caller rather
/// than a protocol violation that makes the server close the connection.
enum NATSSubjectValidation {
    /// A subject is one or more non-empty tokens separated by `.`, without whitespace or
    /// control characters.
    static func validate(_ subject: String) throws(NATSError) {
        guard isValid(subject) else { throw NATSError.invalidSubject(subject) }
    }

    static func isValid(_ subject: String) -> Bool {
        // Native strings expose their bytes: scanning those is several times faster than
        // walking `String.UTF8View`.
        if let valid = subject.utf8.withContiguousStorageIfAvailable({ isValid(bytes: $0) }) { return valid }
        return isValid(bytes: subject.utf8)
    }

    private static func isValid(bytes: some Sequence<UInt8>) -> Bool {
        var previousWasDot = true
        var empty = true
        for byte in bytes {
            empty = false
            if byte == UInt8(ascii: ".") {
                if previousWasDot { return false }
                previousWasDot = true
            } else {
                if byte <= 32 || byte == 127 { return false }
                previousWasDot = false
            }
        }
        return !empty && !previousWasDot
    }

    /// A queue group name: one token of printable characters without whitespace.
    static func validateQueue(_ queue: String) throws(NATSError) {
        guard !queue.isEmpty, queue.utf8.allSatisfy({ $0 > 32 && $0 != 127 }) else {
            throw NATSError.invalidSubject(queue)
        }
    }
}
