/// One operation the server sends.
package enum NATSServerOperation: Sendable, Hashable {
    /// `INFO {json}`: the JSON text.
    case info(String)
    /// `MSG` or `HMSG`, delivered to subscription `sid`.
    case message(sid: Int, NATSMessage)
    case ping
    case pong
    case ok
    /// `-ERR 'text'`: the text without its quotes.
    case error(String)
}
