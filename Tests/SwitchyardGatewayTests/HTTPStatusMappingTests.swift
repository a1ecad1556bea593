import GRPCCore
import Hummingbird
import SwitchyardGateway
import SwitchyardRuntime
import Testing

@Suite("gRPC code → HTTP status")
struct HTTPStatusMappingTests {
    @Test("The mapping table, row by row", arguments: [
        (RPCError.Code.notFound, 404),
        (.invalidArgument, 400),
        (.failedPrecondition, 409),
        (.resourceExhausted, 429),
        (.unavailable, 503),
        (.deadlineExceeded, 504),
        (.internalError, 500),
        (.unknown, 500),
        (.alreadyExists, 500),
        (.permissionDenied, 500),
        (.unauthenticated, 500),
        (.aborted, 500),
        (.outOfRange, 500),
        (.unimplemented, 500),
        (.dataLoss, 500),
        (.cancelled, 500),
    ])
    func row(code: RPCError.Code, status: Int) {
        let mapped = HTTPStatusMapping.apiError(for: RPCError(code: code, message: "secret internal detail"))
        #expect(Int(mapped.status.code) == status)
        if status == 500 {
            #expect(mapped.message == "internal error")
            #expect(mapped.code == "INTERNAL")
        }
    }

    @Test("A reused idempotency key is 422, whatever the code")
    func idempotencyReason() {
        let error = RPCError(code: .alreadyExists, message: "key reused", metadata: ErrorReason.idempotencyKeyReused.metadata)
        let mapped = HTTPStatusMapping.apiError(for: error)
        #expect(mapped.status == .unprocessableContent)
        #expect(mapped.code == "IDEMPOTENCY_KEY_REUSED")
    }
}
