import Foundation
package import Configuration
import GRPCCore
import GRPCNIOTransportHTTP2

/// Several replicas of a downstream service, called in turn (round robin): a list of
/// `host:port` addresses, or a DNS name whose every address is a replica.
///
/// Calls to replicas run on grpc-swift's `grpc-nio` client transport, whatever
/// `<scope>.transport` says: its load balancer keeps a subchannel per replica, picks the next
/// ready one for each call, takes a replica whose connection fails out of the rotation until
/// it reconnects, and re-resolves a DNS name when connections change. The lean `switchyard`
/// transport serves one address at a time; giving it the same would mean a second, untested
/// load balancer, for the throughput a single-replica client keeps either way.
package enum GRPCReplicaTarget: Sendable, Hashable {
    /// Fixed addresses (IPv4 literals or names, each resolved once per connection).
    case addresses([GRPCEndpointAddress])
    /// Every A record of `host`, at `port`; re-resolved when the balancer asks.
    case dns(host: String, port: Int)

    /// Parses `host:port,host:port` or `dns:host:port`.
    ///
    /// - Returns: `nil` for an empty text (no replicas configured).
    /// - Throws: `ConfigurationValueError` naming `key`.
    package static func parse(_ text: String, key: String) throws -> GRPCReplicaTarget? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        let expected = ["host:port[,host:port…]", "dns:host:port"]
        if trimmed.hasPrefix("dns:") {
            let rest = trimmed.dropFirst("dns:".count).drop(while: { $0 == "/" })
            guard let address = GRPCEndpointAddress(parsing: String(rest)) else {
                throw ConfigurationValueError(key: key, value: text, expected: expected)
            }
            return .dns(host: address.host, port: address.port)
        }
        var addresses: [GRPCEndpointAddress] = []
        for part in trimmed.split(separator: ",") {
            guard let address = GRPCEndpointAddress(parsing: part.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationValueError(key: key, value: text, expected: expected)
            }
            addresses.append(address)
        }
        return .addresses(addresses)
    }

    /// The round-robin transport for these replicas.
    func makeTransport() throws -> HTTP2ClientTransport.Posix {
        var serviceConfig = ServiceConfig()
        serviceConfig.loadBalancingConfig = [.roundRobin]
        switch self {
        case .addresses(let addresses):
            return try HTTP2ClientTransport.Posix(
                target: .ipv4(pairs: addresses.map { (host: $0.host, port: $0.port) }),
                transportSecurity: .plaintext,
                serviceConfig: serviceConfig
            )
        case .dns(let host, let port):
            var resolvers = NameResolverRegistry.defaults
            resolvers.registerFactory(EveryAddressDNSResolverFactory())
            return try HTTP2ClientTransport.Posix(
                target: EveryAddressDNSTarget(host: host, port: port),
                transportSecurity: .plaintext,
                resolverRegistry: resolvers,
                serviceConfig: serviceConfig
            )
        }
    }
}

/// One replica's address.
package struct GRPCEndpointAddress: Sendable, Hashable {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, port 1–65535.
    package init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
            let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        self.init(host: String(text[..<colon]), port: port)
    }
}

extension GRPCClientConfiguration {
    /// Reads `key` (e.g. `orders.inventory.addresses`): the replicas to balance over, if any.
    package static func replicas(reader: ConfigReader, key: String) throws -> GRPCReplicaTarget? {
        try GRPCReplicaTarget.parse(reader.string(forKey: ConfigKey(key), default: ""), key: key)
    }

    /// The documented replicas key of a client, e.g. `gateway.orders.addresses`.
    package static func replicasSetting(key: String, downstream: String) -> ConfigurationSetting {
        ConfigurationSetting(
            key: key,
            type: "string",
            defaultValue: "(none: host and port)",
            summary: "replicas of \(downstream), called round robin (grpc-nio), unhealthy ones skipped: host:port,host:port… or dns:host:port"
        )
    }
}

/// A DNS name whose every address is its own endpoint. grpc-swift's DNS resolver puts all the
/// addresses of a name into one endpoint, which round robin then treats as one replica (it
/// connects to the first address that answers); replicas behind one name need one each.
struct EveryAddressDNSTarget: ResolvableTarget, Sendable {
    var host: String
    var port: Int
}

struct EveryAddressDNSResolverFactory: NameResolverFactory {
    func resolver(for target: EveryAddressDNSTarget) -> NameResolver {
        let dns = NameResolvers.DNS().resolver(for: .dns(host: target.host, port: target.port))
        return NameResolver(names: RPCAsyncSequence(wrapping: EndpointPerAddress(base: dns.names)), updateMode: dns.updateMode, authority: dns.authority)
    }
}

/// A resolver's results with each address split into an endpoint of its own.
private struct EndpointPerAddress: AsyncSequence, Sendable {
    typealias Element = NameResolutionResult
    typealias Failure = any Error

    let base: RPCAsyncSequence<NameResolutionResult, any Error>

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RPCAsyncSequence<NameResolutionResult, any Error>.AsyncIterator

        mutating func next() async throws -> NameResolutionResult? {
            try await next(isolation: nil)
        }

        mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> NameResolutionResult? {
            guard var result = try await base.next(isolation: actor) else { return nil }
            result.endpoints = result.endpoints.flatMap { endpoint in endpoint.addresses.map { Endpoint(addresses: [$0]) } }
            return result
        }
    }
}
