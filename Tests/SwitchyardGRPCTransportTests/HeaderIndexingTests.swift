import GRPCCore
import NIOCore
import NIOHPACK
@testable import SwitchyardGRPCTransport
import Testing

@Suite("SwitchyardHTTP2ClientTransport: HPACK indexing of per-call headers")
struct HeaderIndexingTests {
    private func request(traceparent: String) -> HPACKHeaders {
        var metadata = Metadata()
        metadata.addString(traceparent, forKey: "traceparent")
        metadata.addString("gateway", forKey: "user-agent")
        return GRPCHeaders.requestHeaders(path: "/orders.Orders/GetOrder", authority: "127.0.0.1:50052", metadata: metadata, timeout: .seconds(2))
    }

    private func traceparent(_ call: Int) -> String {
        let hex = String(call, radix: 16)
        return "00-" + String(repeating: "0", count: 32 - hex.count) + hex + "-00f067aa0ba902b7-01"
    }

    @Test("traceparent and grpc-timeout are sent without entering the dynamic table; the rest is indexed")
    func indexing() {
        let headers = request(traceparent: traceparent(1))
        for (name, _, indexing) in headers {
            let expected: HPACKIndexing = ["traceparent", "grpc-timeout"].contains(name) ? .nonIndexable : .indexable
            #expect(indexing == expected, "\(name)")
        }
    }

    @Test("A call's header block stays small however many calls went before it")
    func blocksStaySmall() throws {
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
        var sizes: [Int] = []
        for call in 1...200 {
            var block = ByteBuffer()
            try encoder.encode(headers: request(traceparent: traceparent(call)), to: &block)
            sizes.append(block.readableBytes)
        }
        // Indexed per-call values would fill the 4 KiB table within ~40 calls and evict the
        // path, authority and user agent, which would then be sent in full again.
        let largest = sizes.dropFirst(2).max() ?? 0
        #expect(largest <= sizes[1], "\(sizes[1]) bytes on the second call, up to \(largest) later")
    }
}
