import ArgumentParser
import Foundation
import NIOHTTP1

/// `switchyard order place|get`: orders through the gateway's REST API.
struct OrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Place and look up orders through the gateway.",
        subcommands: [Place.self, Get.self]
    )

    struct Place: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Place an order: switchyard order place --customer c-1 --line sku-1:2:1999"
        )

        @OptionGroup var client: GatewayClientOptions

        @Option(help: "The customer id.")
        var customer: String

        @Option(name: .customLong("line"), help: ArgumentHelp("sku:quantity:unitPriceCents. Repeatable.", valueName: "line"))
        var lines: [String]

        @Option(help: "The Idempotency-Key; a fresh one by default. Reuse it to retry safely.")
        var key: String = UUID().uuidString

        func run() async throws {
            let parsed = try lines.map { line in
                let parts = line.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 3, let quantity = Int(parts[1]), let price = Int64(parts[2]) else {
                    throw ValidationError("--line expects sku:quantity:unitPriceCents, got '\(line)'")
                }
                return ["sku": String(parts[0]), "quantity": quantity, "unitPriceCents": price] as [String: any Sendable]
            }
            let body = try JSONSerialization.data(withJSONObject: ["customerId": customer, "lines": parsed], options: [.sortedKeys])
            try await client.send(.POST, "/orders", headers: [("Idempotency-Key", key)], json: String(decoding: body, as: UTF8.self))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one order.")

        @OptionGroup var client: GatewayClientOptions

        @Argument(help: "The order id.")
        var id: String

        func run() async throws {
            try await client.send(.GET, "/orders/\(pathSegment(id))")
        }
    }
}

/// `switchyard stock [<sku>]`: stock through the gateway's REST API.
struct StockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock",
        abstract: "Show the stock of one SKU, or of every SKU."
    )

    @OptionGroup var client: GatewayClientOptions

    @Argument(help: "A SKU; all SKUs when omitted.")
    var sku: String?

    func run() async throws {
        if let sku {
            try await client.send(.GET, "/inventory/\(pathSegment(sku))")
        } else {
            try await client.send(.GET, "/inventory?pageSize=1000")
        }
    }
}
