import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardTestSupport
import Testing

/// One bad request and what the gateway must answer.
struct BadRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var method: HTTPMethod
    var path: String
    var headers: [(String, String)]
    var body: [UInt8]?
    var status: Int
    var code: String

    var testDescription: String { name }

    static func post(_ name: String, _ json: String, status: Int = 400, code: String = "INVALID_ARGUMENT", key: String? = "k-bad", contentType: String = "application/json") -> BadRequest {
        var headers = [("Content-Type", contentType)]
        if let key { headers.append(("Idempotency-Key", key)) }
        return BadRequest(name: name, method: .POST, path: "/orders", headers: headers, body: Array(json.utf8), status: status, code: code)
    }

    static func get(_ name: String, _ path: String, status: Int, code: String) -> BadRequest {
        BadRequest(name: name, method: .GET, path: path, headers: [], body: nil, status: status, code: code)
    }
}

private let tenThousandLines = #"{"customerId": "c", "lines": ["# + (0..<10_000).map { #"{"sku": "s\#($0)", "quantity": 1, "unitPriceCents": 1}"# }.joined(separator: ",") + "]}"
private let overOneMebibyte = #"{"customerId": ""# + String(repeating: "x", count: 1 << 20) + #"", "lines": []}"#

private let badRequests: [BadRequest] = [
    .post("malformed JSON", #"{"customerId": "c", "lines": [#"#),
    .post("not JSON at all", "hello"),
    .post("JSON but not an object", "[1, 2, 3]"),
    .post("customerId of the wrong type", #"{"customerId": 7, "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 1}]}"#),
    .post("quantity of the wrong type", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": "two", "unitPriceCents": 1}]}"#),
    .post("fractional quantity", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 1.5, "unitPriceCents": 1}]}"#),
    .post("huge quantity", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 1e30, "unitPriceCents": 1}]}"#),
    .post("missing lines", #"{"customerId": "c"}"#),
    .post("missing customerId", #"{"lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 1}]}"#),
    .post("missing unitPriceCents", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 1}]}"#),
    .post("null sku", #"{"customerId": "c", "lines": [{"sku": null, "quantity": 1, "unitPriceCents": 1}]}"#),
    .post("no lines", #"{"customerId": "c", "lines": []}"#),
    .post("zero quantity", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 0, "unitPriceCents": 1}]}"#),
    .post("negative quantity", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": -3, "unitPriceCents": 1}]}"#),
    .post("negative price", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": -1}]}"#),
    .post("10,000 lines", tenThousandLines),
    .post("an unknown SKU", #"{"customerId": "c", "lines": [{"sku": "no-such-sku", "quantity": 1, "unitPriceCents": 1}]}"#),
    .post("a control character in the customer", #"{"customerId": "c\u0000d", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 1}]}"#),
    .post("no Idempotency-Key", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 1}]}"#, key: nil),
    .post("a body over 1 MiB", overOneMebibyte, status: 413, code: "PAYLOAD_TOO_LARGE"),
    .post("text/plain", #"{"customerId": "c", "lines": [{"sku": "sku-1", "quantity": 1, "unitPriceCents": 1}]}"#, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", contentType: "text/plain"),
    .post("form-encoded", "customerId=c", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", contentType: "application/x-www-form-urlencoded"),
    .get("a missing id", "/orders", status: 400, code: "INVALID_ARGUMENT"),
    .get("an empty id", "/orders?id=", status: 400, code: "INVALID_ARGUMENT"),
    .get("an unknown id", "/orders?id=ord_nope", status: 404, code: "NOT_FOUND"),
    .get("a percent-encoded traversal", "/orders/..%2F..%2Fetc%2Fpasswd", status: 404, code: "NOT_FOUND"),
    .get("a NUL in the id", "/orders?id=ord%00x", status: 400, code: "INVALID_ARGUMENT"),
    .get("a right-to-left override", "/orders?id=%E2%80%AEdro", status: 400, code: "INVALID_ARGUMENT"),
    .get("invalid UTF-8", "/orders?id=%FF%FE", status: 404, code: "NOT_FOUND"),
    .get("a 10,000-character id", "/orders?id=" + String(repeating: "a", count: 10_000), status: 400, code: "INVALID_ARGUMENT"),
    .get("an id of only spaces", "/orders?id=%20%20", status: 404, code: "NOT_FOUND"),
    .get("a SQL injection attempt", "/orders?id=1%27%20OR%20%271%27%3D%271", status: 404, code: "NOT_FOUND"),
    .get("an unknown SKU", "/inventory/no-such-sku", status: 404, code: "NOT_FOUND"),
    .get("a bad page size", "/inventory?pageSize=-1", status: 400, code: "INVALID_ARGUMENT"),
    .get("a forged page token", "/inventory?pageToken=%25%25%25", status: 400, code: "INVALID_ARGUMENT"),
    .get("an unknown route", "/nothing/here", status: 404, code: "NOT_FOUND"),
]

@Suite("Bad input at the gateway")
struct GatewayBadInputTests {
    @Test("Each bad request gets its status and a JSON error, and the gateway keeps serving")
    func badRequestsAnswered() async throws {
        try await withLocalSystem { system in
            let http = HTTPTestClient(baseURL: system.gatewayURL)
            for bad in badRequests {
                let response = try await http.send(bad.method, bad.path, headers: bad.headers, body: bad.body)
                #expect(response.status == bad.status, "\(bad.name): \(response.body.prefix(200))")
                #expect(response.errorCode == bad.code, "\(bad.name): \(response.body.prefix(200))")
                #expect(response.errorMessage?.isEmpty == false, "\(bad.name)")
                #expect(response.headers["Content-Type"].first?.hasPrefix("application/json") == true, "\(bad.name)")
            }
            // Still up, and nothing was reserved along the way.
            #expect(try await http.get("/inventory/sku-1").json?["quantity"] as? Int == 42)
        }
    }
}
