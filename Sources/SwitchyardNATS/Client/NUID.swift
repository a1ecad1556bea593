/// Random tokens for inbox subjects: 22 base-62 characters (about 131 bits).
enum NUID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func next() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(22)
        for _ in 0..<22 { bytes.append(alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
