import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    @Test("In-flight calls complete, new calls are refused, and health goes NOT_SERVING")
    func drainsInFlightCalls() async throws {
        let gate = GateService()
        try await withTestServer(services: [gate]) { server, port, group in
            try await withLoopbackGRPCClient(port: port) { grpc in
                try await withThrowingTaskGroup(of: [UInt8].self) { calls in
                    // 1. A call in flight, held inside its handler.
                    calls.addTask {
                        try await grpc.rawUnary(service: "switchyard.test.Gate", method: "Wait", message: [1, 2, 3], timeout: .seconds(60))
                    }
                    try await eventually("the call to reach its handler") { gate.arrived == 1 }

                    // 2. Shut down while it is held: health turns NOT_SERVING at once.
                    await group.beginGracefulShutdown()
                    try await eventually("health to go NOT_SERVING") { server.health.status(of: "") == .notServing }

                    // 3. A new call, on a fresh connection, is refused.
                    let refused: RPCError.Code? = try await withLoopbackGRPCClient(port: port) { late in
                        do {
                            _ = try await late.rawUnary(service: "switchyard.test.Gate", method: "Wait", message: [9], timeout: .seconds(5))
                            return nil
                        } catch let error as RPCError {
                            return error.code
                        }
                    }
                    #expect(refused == .unavailable)
                    #expect(gate.arrived == 1)

                    // 4. Let the held call finish: it completes normally.
                    gate.latch.open()
                    let answer = try await calls.next()
                    #expect(answer == [3, 2, 1])
                }
            }
        }
    }
}
