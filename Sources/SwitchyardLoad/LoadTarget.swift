/// Something to put load on. Each worker gets its own `LoadConnection` (its own socket), so
/// workers never wait on one another inside the generator.
package protocol LoadTarget: Sendable {
    associatedtype Connection: LoadConnection
    /// A short name for reports (e.g. `GET http://127.0.0.1:8080/orders?id=1`).
    var name: String { get }
    /// Opens one connection. Called once per worker before the run starts.
    func connect() async throws -> Connection
}

/// One worker's connection to the target.
package protocol LoadConnection: Sendable {
    /// Sends request number `number` and waits for its answer. Throws when the request failed
    /// (transport error or an answer the target counts as an error).
    func send(number: Int) async throws
    /// Closes the connection.
    func close() async
}
