import GRPCCore
import Instrumentation
import Synchronization
import Tracing

/// The server side of every Switchyard gRPC call: continues the caller's trace from the
/// `traceparent` metadata in a server span named after the method (`orders.Orders/PlaceOrder`),
/// runs the handler inside it (so the calls it makes and the events it stores join the trace
/// without any handler code), and records `rpc.server.call.duration`.
struct ServerTelemetryInterceptor: ServerInterceptor {
    /// Where every call's trace starts: the service's name, nothing else (made once).
    let entryPoint: InstrumentationContext
    let durations = CallDurationMetrics(label: "rpc.server.call.duration")
    /// Read once: `InstrumentationSystem.tracer` takes a lock each time, and servers are made
    /// after the process bootstrapped its tracer.
    let spans = SpanStarter()
    let methods = SpanDetailsCache.methods()

    init(serviceName: String) {
        self.entryPoint = .entryPoint(of: serviceName)
    }

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        // A call is where a trace enters this service: start from the caller's context only.
        let headers = IncomingTraceHeaders(request.metadata)
        let method = methods.details(of: context.descriptor)
        let name = method.spanName
        let span = spans.start(name, continuing: headers, from: entryPoint, ofKind: .server)
        let call = FinishOnce.started(span, descriptor: context.descriptor, details: method, kind: .server, durations: durations)
        do {
            var response = try await InstrumentationContext.$current.withValue(span.context) {
                try await next(request, context)
            }
            switch response.accepted {
            case .success(var contents):
                // Streaming handlers run in the producer, after `next` returns: keep the span
                // current there too, and end it with the call's real outcome.
                let producer = contents.producer
                let spanContext = span.context
                contents.producer = { writer in
                    do {
                        let trailers = try await InstrumentationContext.$current.withValue(spanContext) { try await producer(writer) }
                        call.finish(error: nil)
                        return trailers
                    } catch {
                        call.finish(error: error)
                        throw error
                    }
                }
                response.accepted = .success(contents)
            case .failure(let error):
                call.finish(error: error)
            }
            return response
        } catch {
            call.finish(error: error)
            throw error
        }
    }
}

/// The client side: a client span per call (`orders.Orders/PlaceOrder`, kind client) whose
/// context travels as `traceparent`/`tracestate` metadata, ended when the response's last
/// part has been read; records `rpc.client.call.duration`.
struct ClientTelemetryInterceptor: ClientInterceptor {
    let serviceName: String?
    let durations = CallDurationMetrics(label: "rpc.client.call.duration")
    let spans = SpanStarter()
    let methods = SpanDetailsCache.methods()

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var parent = InstrumentationContext.current ?? .topLevel
        if let serviceName, parent.serviceName == nil { parent.serviceName = serviceName }
        let method = methods.details(of: context.descriptor)
        let span = spans.start(method.spanName, context: parent, ofKind: .client)
        let call = FinishOnce.started(span, descriptor: context.descriptor, details: method, kind: .client, durations: durations)
        var request = request
        span.injectTraceHeaders(into: &request.metadata, using: MetadataInjector(), tracer: spans.tracer)
        do {
            var response = try await next(request, context)
            switch response.accepted {
            case .success(var contents):
                contents.bodyParts = RPCAsyncSequence(wrapping: FinishingSequence(base: contents.bodyParts, call: call))
                response.accepted = .success(contents)
            case .failure(let error):
                call.finish(error: error)
            }
            return response
        } catch {
            call.finish(error: error)
            throw error
        }
    }
}

/// Ends a call's span and records its duration exactly once, whichever path sees the end.
final class FinishOnce: Sendable {
    private let span: TracedSpan
    /// Read once: with tracing off the span records nothing, and its attributes are not worth
    /// building.
    private let recording: Bool
    private let kind: SpanKind
    private let descriptor: MethodDescriptor
    /// The method's attributes with `rpc.grpc.status_code` 0, taken by a call that ends OK.
    private let completed: SharedSpanAttributes?
    private let durations: CallDurationMetrics
    private let started = ContinuousClock.now
    private let finished = Atomic<Bool>(false)

    /// Gives `span`, just started for a call to `descriptor` and named after its method, the
    /// method's OpenTelemetry RPC attributes (`SpanDetailsCache.methods()`); the call's end
    /// records its duration in `durations`.
    static func started(
        _ span: TracedSpan,
        descriptor: MethodDescriptor,
        details: SpanDetails,
        kind: SpanKind,
        durations: CallDurationMetrics
    ) -> FinishOnce {
        let recording = span.isRecording
        if recording { span.setAttributes(details.attributes) }
        return FinishOnce(span: span, recording: recording, kind: kind, descriptor: descriptor, completed: details.completed, durations: durations)
    }

    private init(
        span: TracedSpan,
        recording: Bool,
        kind: SpanKind,
        descriptor: MethodDescriptor,
        completed: SharedSpanAttributes?,
        durations: CallDurationMetrics
    ) {
        self.span = span
        self.recording = recording
        self.kind = kind
        self.descriptor = descriptor
        self.completed = completed
        self.durations = durations
    }

    func finish(error: (any Error)?) {
        guard !finished.exchange(true, ordering: .relaxed) else { return }
        let code: RPCError.Code? = switch error {
        case nil: nil
        case let rpc as RPCError: rpc.code
        case is CancellationError: .cancelled
        default: .unknown
        }
        let numeric = code.map { String($0.rawValue) } ?? "0"
        if recording {
            if code == nil, let completed {
                span.setAttributes(completed)
            } else {
                span.setAttribute(Self.statusCodeKey, .int64(code.map { Int64($0.rawValue) } ?? 0))
            }
            if let code, Self.isFailure(code, kind: kind) {
                span.setStatus(SpanStatus(code: .error, message: "\(code)"))
                if let error { span.recordError(error) }
            }
        }
        span.end()
        durations.record(
            service: descriptor.service.fullyQualifiedService, method: descriptor.method, code: numeric,
            nanoseconds: (ContinuousClock.now - started).wholeNanoseconds
        )
    }

    static let statusCodeKey = "rpc.grpc.status_code"

    /// OpenTelemetry's rule: for a client every non-OK status is an error; for a server only
    /// the codes that mean the server failed (a NOT_FOUND is the caller's problem).
    static func isFailure(_ code: RPCError.Code, kind: SpanKind) -> Bool {
        guard kind == .server else { return true }
        switch code {
        case .unknown, .deadlineExceeded, .unimplemented, .internalError, .unavailable, .dataLoss: return true
        default: return false
        }
    }
}

/// The response parts as they were, ending the call when they end.
struct FinishingSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    typealias Element = Base.Element
    let base: Base
    let call: FinishOnce

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let call: FinishOnce

        mutating func next() async throws -> Element? {
            do {
                let element = try await base.next()
                if element == nil { call.finish(error: nil) }
                return element
            } catch {
                call.finish(error: error)
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), call: call)
    }
}

extension SpanDetailsCache where Key == MethodDescriptor {
    /// Each method's span name (`orders.Orders/GetOrder`) and `rpc.*` attributes.
    static func methods() -> SpanDetailsCache<MethodDescriptor> {
        SpanDetailsCache { descriptor in
            let service = descriptor.service.fullyQualifiedService
            let attributes = SharedSpanAttributes(["rpc.system": "grpc", "rpc.service": .string(service), "rpc.method": .string(descriptor.method)])
            return SpanDetails(
                spanName: "\(service)/\(descriptor.method)",
                attributes: attributes,
                completed: attributes.adding(FinishOnce.statusCodeKey, .int64(0))
            )
        }
    }
}
