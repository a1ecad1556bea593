import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime

extension Order {
    var proto: Orders_Order {
        .with { message in
            message.id = id
            message.customerID = customerID
            message.status = status.rawValue
            message.lines = lines.map { line in
                Orders_OrderLine.with {
                    $0.sku = line.sku
                    $0.quantity = Int32(clamping: line.quantity)
                    $0.unitPriceCents = line.unitPriceCents
                }
            }
            message.totalCents = totalCents
            message.createdAtUnixMs = createdAt.unixMilliseconds
            if let shippedAt { message.shippedAtUnixMs = shippedAt.unixMilliseconds }
        }
    }
}
