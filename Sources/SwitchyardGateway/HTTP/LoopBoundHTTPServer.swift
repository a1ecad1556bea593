import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SwitchyardGRPCTransport

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1.1 server, with each connection's requests handled on the
    /// connection's own event loop (see `LoopBoundChildChannel`).
    static func loopBoundHTTP1() -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            LoopBoundChildChannel(base: HTTP1Channel(responder: responder, configuration: .init()))
        }
    }
}

/// A server child channel whose handling task prefers its connection's event loop.
///
/// Hummingbird handles each connection in a task on the cooperative pool: a request is read on
/// the loop, handled on a pool thread, and written on the loop again, two thread crossings per
/// request. On its connection's loop the request is read, handled and written on one thread.
/// Gateway handlers only await; none blocks, which is what running on a loop requires.
struct LoopBoundChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor.on(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}
