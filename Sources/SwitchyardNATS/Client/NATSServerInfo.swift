import Foundation

/// The fields of the server's INFO this client uses.
struct NATSServerInfo: Sendable, Decodable {
    var serverID: String?
    var serverName: String?
    var version: String?
    var maxPayload: Int?
    var headers: Bool?
    var jetStream: Bool?
    /// Other cluster members' client addresses ("host:port"), which join the server list.
    var connectURLs: [String]?
    /// Lame duck mode: the server is about to shut down.
    var lameDuckMode: Bool?

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version
        case maxPayload = "max_payload"
        case headers
        case jetStream = "jetstream"
        case connectURLs = "connect_urls"
        case lameDuckMode = "ldm"
    }

    static func decode(_ json: String) throws -> NATSServerInfo {
        try JSONDecoder().decode(NATSServerInfo.self, from: Data(json.utf8))
    }
}
