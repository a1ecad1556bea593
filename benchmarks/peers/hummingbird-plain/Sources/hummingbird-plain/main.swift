// Hummingbird 2 in its default configuration, with no middleware, answering the article's
// `GET /orders?id=` with a constant, as the article's Go handler does. What it serves on one
// core is the most any gateway built on Hummingbird can serve there.
//
// Usage: hummingbird-plain [PORT]  (0, the default, picks a free port)
// Prints "listening 127.0.0.1:PORT" once bound.
import Foundation
import Hummingbird
import Logging

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 0
let router = Router()
router.get("orders") { request, _ -> Response in
    guard let id = request.uri.queryParameters["id"] else {
        return Response(status: .badRequest)
    }
    let body = ByteBuffer(string: "{\"id\":\"\(id)\",\"status\":\"shipped\"}\n")
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}
var logger = Logger(label: "hummingbird-plain")
logger.logLevel = .warning
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        FileHandle.standardOutput.write(Data("listening 127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
    },
    logger: logger
)
try await app.runService()
