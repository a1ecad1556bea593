import Crypto
import Foundation
import SwitchyardRuntime

/// A validated request to place an order, built only through `validated`, so the rest of the
/// service can trust every field.
package struct PlaceOrderCommand: Sendable, Hashable {
    package let idempotencyKey: String
    package let customerID: String
    package let lines: [OrderLine]
    package let totalCents: Int64
    /// A digest of what the request asks for (customer and lines, in SKU order), stored with
    /// the key: the same key arriving with a different fingerprint is a different request.
    package let fingerprint: String

    package static let maximumLines = 100
    package static let maximumQuantity = 10_000
    /// $10 million a unit: with the other bounds, totals stay far inside Int64.
    package static let maximumUnitPriceCents: Int64 = 1_000_000_000

    /// Checks a request as it arrived.
    /// - Throws: `OrdersError.invalidArgument` naming the first problem.
    package static func validated(idempotencyKey: String, customerID: String, lines: [OrderLine]) throws(OrdersError) -> PlaceOrderCommand {
        if let problem = IdentifierRules.problem(with: idempotencyKey, name: "idempotency key") { throw .invalidArgument(problem) }
        if let problem = IdentifierRules.problem(with: customerID, name: "customerId") { throw .invalidArgument(problem) }
        guard !lines.isEmpty else { throw .invalidArgument("an order needs at least one line") }
        guard lines.count <= maximumLines else {
            throw .invalidArgument("an order has at most \(maximumLines) lines, got \(lines.count)")
        }
        var seen = Set<String>()
        for line in lines {
            if let problem = IdentifierRules.problem(with: line.sku, name: "sku") { throw .invalidArgument(problem) }
            guard (1...maximumQuantity).contains(line.quantity) else {
                throw .invalidArgument("quantity of \(line.sku) must be between 1 and \(maximumQuantity), got \(line.quantity)")
            }
            guard (0...maximumUnitPriceCents).contains(line.unitPriceCents) else {
                throw .invalidArgument("unitPriceCents of \(line.sku) must be between 0 and \(maximumUnitPriceCents), got \(line.unitPriceCents)")
            }
            guard seen.insert(line.sku).inserted else {
                throw .invalidArgument("sku \(line.sku) appears on more than one line")
            }
        }
        return PlaceOrderCommand(
            idempotencyKey: idempotencyKey,
            customerID: customerID,
            lines: lines,
            totalCents: lines.reduce(0) { $0 + $1.totalCents },
            fingerprint: fingerprint(customerID: customerID, lines: lines)
        )
    }

    /// SHA-256 over an unambiguous encoding of the customer and the lines sorted by SKU, so
    /// the same order written with its lines in another order is still the same request.
    private static func fingerprint(customerID: String, lines: [OrderLine]) -> String {
        var text = "v1\u{1F}\(customerID)"
        for line in lines.sorted(by: { $0.sku < $1.sku }) {
            text += "\u{1E}\(line.sku)\u{1F}\(line.quantity)\u{1F}\(line.unitPriceCents)"
        }
        return SHA256.hash(data: Data(text.utf8)).withUnsafeBytes { LowercaseHex.encode($0) }
    }

    private init(idempotencyKey: String, customerID: String, lines: [OrderLine], totalCents: Int64, fingerprint: String) {
        self.idempotencyKey = idempotencyKey
        self.customerID = customerID
        self.lines = lines
        self.totalCents = totalCents
        self.fingerprint = fingerprint
    }
}
