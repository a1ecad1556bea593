import GRPCCore

/// Makes the caller's deadline (`grpc-timeout`) the `RequestDeadline` of the handler, so the
/// calls the handler makes downstream get only what is left of it: deadlines shrink at each
/// hop instead of restarting. grpc-swift already cancels the handler when the deadline
/// passes; this carries the same deadline onwards.
struct DeadlinePropagationInterceptor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard
            let header = GRPCTimeoutHeader.metadataKeys.lazy.compactMap({ request.metadata[stringValues: $0].first(where: { _ in true }) }).first,
            let timeout = GRPCTimeoutHeader.parse(header)
        else {
            return try await next(request, context)
        }
        return try await RequestDeadline.withTimeout(timeout) {
            try await next(request, context)
        }
    }
}
