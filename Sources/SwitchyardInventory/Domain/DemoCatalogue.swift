/// The SKUs `switchyard dev` seeds on first start (listed in the README). `sku-1` holds 42
/// units, the quantity the article's Python servicer answers, so the article's client sees
/// the same number against Switchyard; `sku-4` starts out of stock to show a 409.
package enum DemoCatalogue {
    package static let stock: [StockLevel] = [
        StockLevel(sku: "sku-1", quantity: 42),
        StockLevel(sku: "sku-2", quantity: 100),
        StockLevel(sku: "sku-3", quantity: 7),
        StockLevel(sku: "sku-4", quantity: 0),
        StockLevel(sku: "sku-5", quantity: 1_000_000),
    ]
}
