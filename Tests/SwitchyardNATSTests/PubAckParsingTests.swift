import NIOCore
import SwitchyardNATS
import Testing

/// The publish-ack reader: the usual shapes in place, everything else through the full decoder.
@Suite struct PubAckParsingTests {
    @Test func readsTheUsualAcks() throws {
        #expect(try PubAck.parse(ByteBuffer(string: #"{"stream":"ORDERS","seq":123}"#)) == PubAck(stream: "ORDERS", sequence: 123))
        #expect(
            try PubAck.parse(ByteBuffer(string: #" { "stream" : "S", "domain":"hub", "seq":18446744073709551615 ,"duplicate":true } "#))
                == PubAck(stream: "S", sequence: 18_446_744_073_709_551_615, duplicate: true, domain: "hub")
        )
        // Members it does not read are skipped.
        #expect(try PubAck.parse(ByteBuffer(string: #"{"stream":"S","seq":7,"val":"x","n":3,"z":null,"duplicate":false}"#)) == PubAck(stream: "S", sequence: 7))
        // Escapes and nesting go through the full decoder, with the same result.
        #expect(try PubAck.parse(ByteBuffer(string: #"{"stream":"A\u0042","seq":2,"extra":{"a":[1]}}"#)) == PubAck(stream: "AB", sequence: 2))
    }

    @Test func reportsErrorsAndMalformedAcks() {
        #expect(throws: (any Error).self) { try PubAck.parse(ByteBuffer(string: #"{"error":{"code":503,"description":"no stream"}}"#)) }
        #expect(throws: (any Error).self) { try PubAck.parse(ByteBuffer(string: #"{"stream":"S"}"#)) }
        #expect(throws: (any Error).self) { try PubAck.parse(ByteBuffer(string: #"{"stream":"S","seq":1"#)) }
        #expect(throws: (any Error).self) { try PubAck.parse(ByteBuffer(string: #"{"stream":"S","seq":-1}"#)) }
        #expect(throws: (any Error).self) { try PubAck.parse(ByteBuffer(string: "")) }
    }
}
