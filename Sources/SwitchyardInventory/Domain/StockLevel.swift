/// The units of one SKU available to reserve now.
package struct StockLevel: Sendable, Hashable {
    package var sku: String
    package var quantity: Int

    package init(sku: String, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }
}

/// One page of `StockLevel`s, ordered by SKU.
package struct StockPage: Sendable, Hashable {
    package var items: [StockLevel]
    /// The last SKU of this page when more may follow; `nil` on the last page.
    package var lastSKU: String?

    package init(items: [StockLevel], lastSKU: String?) {
        self.items = items
        self.lastSKU = lastSKU
    }
}
