import NIOCore
import SwitchyardNATS
import Testing

@Suite struct NATSProtocolParserTests {
    /// Every server operation, with what it parses to.
    static let cases: [(wire: String, expected: NATSServerOperation)] = [
        ("INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n", .info("{\"server_id\":\"x\",\"max_payload\":1048576}")),
        ("PING\r\n", .ping),
        ("PONG\r\n", .pong),
        ("pong\r\n", .pong),
        ("+OK\r\n", .ok),
        ("-ERR 'Unknown Protocol Operation'\r\n", .error("Unknown Protocol Operation")),
        ("MSG foo.bar 9 11\r\nHello World\r\n", .message(sid: 9, NATSMessage(subject: "foo.bar", payload: ByteBuffer(string: "Hello World")))),
        ("MSG foo 1 _INBOX.abc.1 0\r\n\r\n", .message(sid: 1, NATSMessage(subject: "foo", reply: "_INBOX.abc.1", payload: ByteBuffer()))),
        ("MSG\tfoo\t2\t3\r\nabc\r\n", .message(sid: 2, NATSMessage(subject: "foo", payload: ByteBuffer(string: "abc")))),
        (
            hmsg("foo 3", "NATS/1.0\r\nA: 1\r\nb: 2\r\n\r\n", "hello"),
            .message(sid: 3, NATSMessage(subject: "foo", headers: NATSHeaders([("A", "1"), ("b", "2")]), payload: ByteBuffer(string: "hello")))
        ),
        (
            hmsg("_INBOX.x.1 4", "NATS/1.0 503\r\n\r\n"),
            .message(sid: 4, NATSMessage(subject: "_INBOX.x.1", headers: NATSHeaders(status: 503), payload: ByteBuffer()))
        ),
        (
            hmsg("in 5 reply.to", "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 7\r\nNats-Pending-Bytes: 100\r\n\r\n"),
            .message(
                sid: 5,
                NATSMessage(
                    subject: "in", reply: "reply.to",
                    headers: {
                        var headers = NATSHeaders(status: 408, statusDescription: "Request Timeout")
                        headers.append(name: "Nats-Pending-Messages", value: "7")
                        headers.append(name: "Nats-Pending-Bytes", value: "100")
                        return headers
                    }(),
                    payload: ByteBuffer()
                )
            )
        ),
        (
            hmsg("in 6", "NATS/1.0 100 Idle Heartbeat\r\n\r\n"),
            .message(sid: 6, NATSMessage(subject: "in", headers: NATSHeaders(status: 100, statusDescription: "Idle Heartbeat"), payload: ByteBuffer()))
        ),
        (
            hmsg("in 7", "NATS/1.0\r\nK: a\r\nK: b\r\nK:c\r\n\r\n"),
            .message(sid: 7, NATSMessage(subject: "in", headers: NATSHeaders([("K", "a"), ("K", "b"), ("K", "c")]), payload: ByteBuffer()))
        ),
    ]

    static var allWire: [UInt8] { Array(cases.map(\.wire).joined().utf8) }
    static var allExpected: [NATSServerOperation] { cases.map(\.expected) }

    /// Feeds `chunks` and returns every operation parsed.
    static func parse(_ chunks: [[UInt8]]) throws -> [NATSServerOperation] {
        var parser = NATSProtocolParser()
        var operations: [NATSServerOperation] = []
        for chunk in chunks {
            parser.append(ByteBuffer(bytes: chunk))
            while let operation = try parser.next() { operations.append(operation) }
        }
        return operations
    }

    @Test(arguments: 0..<cases.count)
    func parsesEachOperation(index: Int) throws {
        let (wire, expected) = Self.cases[index]
        #expect(try Self.parse([Array(wire.utf8)]) == [expected])
    }

    @Test func headerLookupKeepsCaseAndValues() throws {
        let operations = try Self.parse([Array(Self.cases[13].wire.utf8)])
        guard case .message(_, let message) = operations.first else { throw Unexpected() }
        #expect(message.headers?.values(for: "k") == ["a", "b", "c"])
        #expect(message.headers?.fields.map(\.name) == ["K", "K", "K"])
    }

    @Test(arguments: 1...7)
    func parsesIdenticallyInFixedSizeChunks(size: Int) throws {
        let bytes = Self.allWire
        let chunks = stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
        #expect(try Self.parse(chunks) == Self.allExpected)
    }

    @Test func parsesIdenticallyInRandomPartitions() throws {
        var random = SplitMix64(seed: 0x5EED)
        let bytes = Self.allWire
        for _ in 0..<300 {
            var chunks: [[UInt8]] = []
            var start = 0
            while start < bytes.count {
                let length = Int(random.next() % 40) + 1
                chunks.append(Array(bytes[start..<min(start + length, bytes.count)]))
                start += length
            }
            #expect(try Self.parse(chunks) == Self.allExpected)
        }
    }

    @Test(arguments: [
        ("FOO bar\r\n", "unknown verb"),
        ("MSG foo 1\r\n", "too few arguments"),
        ("MSG foo 1 a b 3\r\nabc\r\n", "too many arguments"),
        ("MSG foo x 3\r\nabc\r\n", "bad sid"),
        ("MSG foo 1 -3\r\nabc\r\n", "negative size"),
        ("MSG foo 1 99999999999999999999999\r\n", "huge size"),
        ("MSG foo 1 2000000\r\n", "beyond max_payload"),
        ("MSG foo 1 2\r\nabc\r\n", "size shorter than payload"),
        ("HMSG foo 1 20 10\r\n", "header size beyond total"),
        (hmsg("foo 1", "HELLO"), "not a NATS/1.0 block"),
        (hmsg("foo 1", "NATS/1.0\r\nnocolon\r\n\r\n"), "header line without colon"),
        (hmsg("foo 1", "NATS/1.0 50\r\n\r\n"), "two-digit status"),
        (hmsg("foo 1", "NATS/1.0 abc\r\n\r\n"), "non-numeric status"),
        (hmsg("foo 1", "NATS/1.0\r\nX: 1\r\n"), "block without blank line"),
        (hmsg("foo 1", "NATS/1.0\r\n\r\nX: 1\r\n"), "bytes after the blank line"),
        (hmsg("foo 1", "NATS/1.1\r\n\r\n"), "other version"),
    ])
    func protocolViolationsAreErrors(wire: String, reason: String) {
        #expect(throws: NATSProtocolError.self, "\(reason)") { _ = try Self.parse([Array(wire.utf8)]) }
    }

    @Test func controlLineWithoutEndIsBounded() {
        var parser = NATSProtocolParser(maxControlLineLength: 1024)
        parser.append(ByteBuffer(repeating: UInt8(ascii: "A"), count: 2048))
        #expect(throws: NATSProtocolError.controlLineTooLong(limit: 1024)) { _ = try parser.next() }
    }

    @Test func randomBytesNeverCrash() {
        var random = SplitMix64(seed: 42)
        let alphabet = Array("MSG HMSG PING PONG INFO +OK -ERR NATS/1.0 0123456789 abc.*>:\r\n\t ".utf8)
        for _ in 0..<2000 {
            var parser = NATSProtocolParser(maxPayload: 4096, maxControlLineLength: 512)
            let length = Int(random.next() % 300)
            let bytes = (0..<length).map { _ in
                random.next() % 4 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))]
            }
            parser.append(ByteBuffer(bytes: bytes))
            do {
                while try parser.next() != nil {}
            } catch {
                // An error is the expected outcome for garbage; a crash is not.
            }
        }
    }

    @Test func encoderWritesClientOperations() throws {
        var buffer = ByteBuffer()
        try NATSCommandEncoder.writePublish(subject: "a.b", reply: nil, headers: nil, payload: ByteBuffer(string: "hi"), into: &buffer)
        try NATSCommandEncoder.writePublish(subject: "a.b", reply: "r.1", headers: nil, payload: ByteBuffer(), into: &buffer)
        var headers = NATSHeaders()
        headers.append(name: "Nats-Msg-Id", value: "42")
        try NATSCommandEncoder.writePublish(subject: "a", reply: nil, headers: headers, payload: ByteBuffer(string: "x"), into: &buffer)
        try NATSCommandEncoder.writeSubscribe(subject: "a.*", queue: nil, sid: 7, into: &buffer)
        try NATSCommandEncoder.writeSubscribe(subject: "a.>", queue: "workers", sid: 8, into: &buffer)
        NATSCommandEncoder.writeUnsubscribe(sid: 7, into: &buffer)
        NATSCommandEncoder.writeUnsubscribe(sid: 8, max: 10, into: &buffer)
        NATSCommandEncoder.writePing(into: &buffer)
        NATSCommandEncoder.writePong(into: &buffer)
        #expect(
            String(buffer: buffer)
                == "PUB a.b 2\r\nhi\r\nPUB a.b r.1 0\r\n\r\nHPUB a 29 30\r\nNATS/1.0\r\nNats-Msg-Id: 42\r\n\r\nx\r\n"
                + "SUB a.* 7\r\nSUB a.> workers 8\r\nUNSUB 7\r\nUNSUB 8 10\r\nPING\r\nPONG\r\n"
        )
        var untouched = ByteBuffer()
        #expect(throws: NATSError.invalidSubject("a b")) {
            try NATSCommandEncoder.writePublish(subject: "a b", reply: nil, headers: nil, payload: ByteBuffer(), into: &untouched)
        }
        var badHeaders = NATSHeaders()
        badHeaders.append(name: "X", value: "line\r\nbreak")
        #expect(throws: NATSError.self) {
            try NATSCommandEncoder.writePublish(subject: "a", reply: nil, headers: badHeaders, payload: ByteBuffer(), into: &untouched)
        }
        #expect(untouched.readableBytes == 0)
    }

    @Test func encodedHeadersParseBack() throws {
        var headers = NATSHeaders()
        headers.append(name: "Trace-Id", value: "abc def")
        headers.append(name: "multi", value: "1")
        headers.append(name: "multi", value: "2")
        var buffer = ByteBuffer()
        try NATSCommandEncoder.writePublish(subject: "s", reply: nil, headers: headers, payload: ByteBuffer(string: "p"), into: &buffer)
        // A PUB line becomes the MSG line a subscriber reads.
        var wire = String(buffer: buffer)
        wire = "HMSG s 1" + wire.dropFirst("HPUB s".count)
        let operations = try Self.parse([Array(wire.utf8)])
        #expect(operations == [.message(sid: 1, NATSMessage(subject: "s", headers: headers, payload: ByteBuffer(string: "p")))])
    }

    @Test func ackSubjectMetadata() throws {
        let v1 = try #require(JetStreamMessageMetadata(ackSubject: "$JS.ACK.ORDERS.fulfillment.3.120.77.1795582257240126191.5"))
        #expect(v1.stream == "ORDERS")
        #expect(v1.consumer == "fulfillment")
        #expect(v1.delivered == 3)
        #expect(v1.streamSequence == 120)
        #expect(v1.consumerSequence == 77)
        #expect(v1.timestampNanoseconds == 1_795_582_257_240_126_191)
        #expect(v1.pending == 5)
        #expect(v1.domain == nil)
        let v2 = try #require(JetStreamMessageMetadata(ackSubject: "$JS.ACK.hub.ACCHASH.ORDERS.c.1.2.3.1795582257240126191.0.token"))
        #expect(v2.domain == "hub")
        #expect(v2.stream == "ORDERS")
        #expect(v2.streamSequence == 2)
        #expect(JetStreamMessageMetadata(ackSubject: "$JS.ACK._.ACCHASH.S.c.1.2.3.4.0.t")?.domain == nil)
        for bad in ["", "$JS.ACK.S.c.1.2.3", "$JS.ACK.S.c.x.2.3.4.5", "$JS.ACK.S.c.1.2.3.4.5.6", "_INBOX.a.b.c.d.e.f.g.h", "$JS.ACK..c.1.2.3.4.5"] {
            #expect(JetStreamMessageMetadata(ackSubject: bad) == nil, "\(bad)")
        }
    }
}

struct Unexpected: Error {}

/// An HMSG with its sizes counted: `prefix` is "subject sid [reply]".
func hmsg(_ prefix: String, _ headerBlock: String, _ payload: String = "") -> String {
    let headerLength = headerBlock.utf8.count
    return "HMSG \(prefix) \(headerLength) \(headerLength + payload.utf8.count)\r\n\(headerBlock)\(payload)\r\n"
}

/// A small seeded generator, so random cases repeat.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
