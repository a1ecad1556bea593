import GRPCCore
import Logging

/// Logs calls that fail with something other than a deliberate `RPCError`. Clients only
/// ever see UNKNOWN with no detail for those (grpc-swift hides the cause), so this log line is
/// where an operator finds what really went wrong.
struct FailureLoggingInterceptor: ServerInterceptor {
    let logger: Logger

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        do {
            return try await next(request, context)
        } catch let error as RPCError {
            throw error
        } catch {
            logger.error(
                "call failed with an unexpected error",
                metadata: ["switchyard.rpc.method": "\(context.descriptor)", "switchyard.error": "\(String(reflecting: error))"]
            )
            throw error
        }
    }
}
