package import GRPCCore
import NIOCore
import PostgresNIO
import _ConnectionPoolModule

/// The service's database cannot be reached (down, restarting, unreachable, or every
/// connection busy for longer than the acquire timeout). Nothing was changed.
///
/// It is a gRPC `UNAVAILABLE`, which the gateway answers with 503: the request may be retried
/// once the database is back, and no internals (host names, driver errors) leak to callers.
package struct DatabaseUnavailableError: Error, CustomStringConvertible, RPCErrorConvertible {
    /// What happened, for the service's own logs.
    package var reason: String

    package init(reason: String) {
        self.reason = reason
    }

    package var description: String { "the database is unavailable: \(reason)" }

    package var rpcErrorCode: RPCError.Code { .unavailable }
    package var rpcErrorMessage: String { "the service's database is unavailable; try again" }

    /// Whether `error`, thrown by postgres-nio, means the server could not be reached or went
    /// away, as opposed to a statement the server rejected.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if error is ConnectionPoolError || error is ChannelError || error is IOError { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .connectionError, .clientClosedConnection, .poolClosed, .uncleanShutdown:
            return true
        case .server:
            // Class 08: connection exceptions; 57P01-57P03: the server is shutting down,
            // crashed, or is not accepting connections yet (starting up or recovering).
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        default:
            return false
        }
    }
}
