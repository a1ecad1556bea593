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
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return Connection(target: self, channel: channel)
    }

    /// One keep-alive connection; requests on it go one after another.
    package final class Connection: LoadConnection, @unchecked Sendable {
        // @unchecked: a connection belongs to exactly one worker task, which uses it
        // sequentially; the iterator is never touched from two tasks.
        private let target: HTTPLoadTarget
        private let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

        init(target: HTTPLoadTarget, channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>) {
            self.target = target
            self.channel = channel
            self.inbound = channel.inbound.makeAsyncIterator()
            self.outbound = channel.outbound
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
            try await outbound.write(.head(head))
            if let body = target.body { try await outbound.write(.body(.byteBuffer(body))) }
            try await outbound.write(.end(nil))
            var status: HTTPResponseStatus?
            var body = ByteBuffer()
            while let part = try await inbound.next() {
                switch part {
                case .head(let response): status = response.status
                case .body(var chunk): if collectingBody { body.writeBuffer(&chunk) }
                case .end:
                    guard let status, (200..<300).contains(status.code) else {
                        throw LoadTargetError.badStatus(Int(status?.code ?? 0))
                    }
                    return body
                }
            }
            throw LoadTargetError.connectionClosed
        }

        package func close() async {
            outbound.finish()
            try? await channel.channel.close()
        }
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
