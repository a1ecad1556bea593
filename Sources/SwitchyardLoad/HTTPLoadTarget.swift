import Foundation
package import NIOCore
package import NIOHTTP1
import NIOPosix

/// HTTP/1.1 requests with keep-alive, one connection per worker: any URL, method and body.
/// A 2xx answer is a success; anything else counts as an error.
package struct HTTPLoadTarget: LoadTarget {
    package let host: String
    package let port: Int
    package let method: HTTPMethod
    package let path: String
    package let headers: HTTPHeaders
    package let body: ByteBuffer?
    /// Builds the headers of request `n` when each request needs its own (an idempotency key).
    package let perRequestHeaders: (@Sendable (Int) -> [(String, String)])?
    /// Builds the path (and query) of request `n` when each request needs its own.
    package let perRequestPath: (@Sendable (Int) -> String)?

    package var name: String { "\(method) http://\(host):\(port)\(path)" }

    /// - Parameters:
    ///   - url: `http://host:port/path?query`; https is not supported (loopback benchmarks).
    /// - Throws: `LoadTargetError.badURL` for anything else.
    package init(
        url: String,
        method: HTTPMethod = .GET,
        headers: [(String, String)] = [],
        body: String? = nil,
        perRequestHeaders: (@Sendable (Int) -> [(String, String)])? = nil,
        perRequestPath: (@Sendable (Int) -> String)? = nil
    ) throws {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw LoadTargetError.badURL(url)
        }
        self.host = host
        self.port = components.port ?? 80
        self.method = method
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.path = components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
        var fields = HTTPHeaders(headers)
        fields.replaceOrAdd(name: "Host", value: "\(host):\(port)")
        if let body {
            if !fields.contains(name: "Content-Type") { fields.add(name: "Content-Type", value: "application/json") }
            fields.replaceOrAdd(name: "Content-Length", value: "\(body.utf8.count)")
            self.body = ByteBuffer(string: body)
        } else {
            self.body = nil
        }
        self.headers = fields
        self.perRequestHeaders = perRequestHeaders
        self.perRequestPath = perRequestPath
    }

    package func connect() async throws -> Connection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: host, port: port)
            .get()
        return Connection(target: self, channel: channel)
    }

    /// One keep-alive connection; requests on it go one after another.
    package struct Connection: LoadConnection {
        private let target: HTTPLoadTarget
        private let channel: any Channel

        init(target: HTTPLoadTarget, channel: any Channel) {
            self.target = target
            self.channel = channel
        }

        package func send(number: Int) async throws {
            _ = try await exchange(number: number, collectingBody: false)
        }

        /// Sends request `number` and returns the answer's body (empty unless `collectingBody`).
        package func exchange(number: Int, collectingBody: Bool) async throws -> ByteBuffer {
            let uri = target.perRequestPath?(number) ?? target.path
            var head = HTTPRequestHead(version: .http1_1, method: target.method, uri: uri, headers: target.headers)
            if let perRequestHeaders = target.perRequestHeaders {
                for (name, value) in perRequestHeaders(number) { head.headers.replaceOrAdd(name: name, value: value) }
            }
            let response = channel.eventLoop.makePromise(of: CollectedResponse.self)
            let body = target.body
            let request = head
            // Everything on the loop: register the answer's promise, then write the request.
            channel.eventLoop.execute {
                guard channel.isActive else {
                    response.fail(LoadTargetError.connectionClosed)
                    return
                }
                do {
                    let collector = try channel.pipeline.syncOperations.handler(type: ResponseCollector.self)
                    collector.expect(response, collectingBody: collectingBody)
                    channel.write(HTTPClientRequestPart.head(request), promise: nil)
                    if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                } catch {
                    response.fail(error)
                }
            }
            let answer = try await response.futureResult.get()
            guard (200..<300).contains(answer.status.code) else { throw LoadTargetError.badStatus(Int(answer.status.code)) }
            return answer.body
        }

        package func close() async {
            try? await channel.close()
        }
    }
}

/// A whole HTTP answer.
struct CollectedResponse: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer
}

/// Gathers one answer at a time into the promise of the exchange waiting for it; a connection
/// that closes or fails fails that exchange.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var pending: EventLoopPromise<CollectedResponse>?
    private var collectingBody = false
    private var status: HTTPResponseStatus?
    private var body = ByteBuffer()

    func expect(_ promise: EventLoopPromise<CollectedResponse>, collectingBody: Bool) {
        pending = promise
        self.collectingBody = collectingBody
        status = nil
        body.clear()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(var chunk):
            if collectingBody { body.writeBuffer(&chunk) }
        case .end:
            let promise = pending
            pending = nil
            if let status {
                promise?.succeed(CollectedResponse(status: status, body: body))
            } else {
                promise?.fail(LoadTargetError.badStatus(0))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(LoadTargetError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: any Error) {
        let promise = pending
        pending = nil
        promise?.fail(error)
    }
}

/// Why a request or a target failed.
package enum LoadTargetError: Error, Hashable, CustomStringConvertible {
    case badURL(String)
    case badStatus(Int)
    case connectionClosed

    package var description: String {
        switch self {
        case .badURL(let url): "not an http:// URL: \(url)"
        case .badStatus(let status): "answered \(status)"
        case .connectionClosed: "the server closed the connection"
        }
    }
}
