import NIOCore

extension Optional where Wrapped == SocketAddress {
    /// grpc-swift's peer format, as `ServerContext` and `ClientContext` carry it:
    /// `ipv4:127.0.0.1:1234`, `ipv6:[::1]:1234`, `unix:/path`.
    var grpcPeerDescription: String {
        guard let address = self else { return "<unknown>" }
        switch address {
        case .v4:
            return "ipv4:\(address.ipAddress ?? ""):\(address.port ?? 0)"
        case .v6:
            return "ipv6:[\(address.ipAddress ?? "")]:\(address.port ?? 0)"
        case .unixDomainSocket:
            return "unix:\(address.pathname ?? "")"
        }
    }
}
