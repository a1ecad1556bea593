import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

/// Checks the server still answers a normal call; every bad-input test ends with it.
private func expectStillServing(port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await withLoopbackGRPCClient(port: port) { grpc in
        let health = Grpc_Health_V1_Health.Client(wrapping: grpc)
        let status = try await health.check(healthRequest("")).status
        #expect(status == .serving, sourceLocation: sourceLocation)
    }
}

private func code(of call: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await call()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        Issue.record("expected an RPCError, got \(error)")
        return nil
    }
}

@Suite("Bad input never takes the server down")
struct BadInputTests {
    @Test("An unknown method gives UNIMPLEMENTED")
    func unknownMethod() async throws {
        try await withTestServer { _, port, _ in
            try await withLoopbackGRPCClient(port: port) { grpc in
                let unknownService = await code { _ = try await grpc.rawUnary(service: "inventory.Inventory", method: "NoSuchMethod", message: []) }
                #expect(unknownService == .unimplemented)
                let unknownMethod = await code { _ = try await grpc.rawUnary(service: "grpc.health.v1.Health", method: "Explode", message: []) }
                #expect(unknownMethod == .unimplemented)
            }
            try await expectStillServing(port: port)
        }
    }

    @Test("A body that is not valid protobuf gives a clean error status", arguments: [
        [0xFF, 0xFF, 0xFF, 0xFF] as [UInt8],  // a varint that never ends
        [0x0A, 0x7F, 0x41],  // a string field claiming 127 bytes, carrying 1
        [0x0B],  // a deprecated group start with no end
    ])
    func invalidProtobuf(bytes: [UInt8]) async throws {
        try await withTestServer { _, port, _ in
            try await withLoopbackGRPCClient(port: port) { grpc in
                let status = await code { _ = try await grpc.rawUnary(service: "grpc.health.v1.Health", method: "Check", message: bytes) }
                #expect(status == .invalidArgument)
            }
            try await expectStillServing(port: port)
        }
    }

    @Test("Random bytes on the port close that connection and nothing else")
    func randomBytes() async throws {
        try await withTestServer { _, port, _ in
            var generator = SystemRandomNumberGenerator()
            let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let outcome = try await RawTCPConnection.send(garbage, toPort: port)
            guard case .closedByServer = outcome else {
                Issue.record("the server kept a garbage connection open")
                return
            }
            try await expectStillServing(port: port)
        }
    }

    @Test("A half-sent HTTP/2 preface does not block other clients, and its connection closes with it")
    func halfPreface() async throws {
        try await withTestServer { _, port, _ in
            let halfPreface = Array("PRI * HTTP/2.0\r\n".utf8)
            try await withThrowingTaskGroup(of: RawTCPConnection.Outcome.self) { group in
                group.addTask {
                    try await RawTCPConnection.send(halfPreface, toPort: port, halfCloseAfterSending: true)
                }
                // While that connection hangs half-open, others are served.
                try await expectStillServing(port: port)
                let outcome = try await group.next()
                guard case .closedByServer = outcome else {
                    Issue.record("the server kept a half-preface connection open after the client finished sending")
                    return
                }
            }
            try await expectStillServing(port: port)
        }
    }

    @Test("A 100 MB message gives RESOURCE_EXHAUSTED")
    func hugeMessage() async throws {
        try await withTestServer { _, port, _ in
            try await withLoopbackGRPCClient(port: port) { grpc in
                let huge = [UInt8](repeating: 0x41, count: 100 * 1024 * 1024)
                let status = await code { _ = try await grpc.rawUnary(service: "grpc.health.v1.Health", method: "Check", message: huge, timeout: .seconds(60)) }
                #expect(status == .resourceExhausted)
            }
            try await expectStillServing(port: port)
        }
    }
}
