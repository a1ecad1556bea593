import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime

extension Reservation {
    /// The wire form of a reservation.
    var proto: Inventory_Reservation {
        .with { message in
            message.orderID = orderID
            message.status = status.proto
            message.lines = lines.map(\.proto)
            message.createdAtUnixMs = createdAt.unixMilliseconds
            message.expiresAtUnixMs = expiresAt.unixMilliseconds
        }
    }
}

extension ReservationLine {
    var proto: Inventory_ReservationLine {
        .with {
            $0.sku = sku
            $0.quantity = Int32(clamping: quantity)
        }
    }
}

extension ReservationStatus {
    var proto: Inventory_ReservationStatus {
        switch self {
        case .reserved: .reserved
        case .confirmed: .confirmed
        case .released: .released
        case .expired: .expired
        }
    }
}

extension StockLevel {
    var proto: Inventory_StockResponse {
        .with {
            $0.sku = sku
            $0.quantity = Int32(clamping: quantity)
        }
    }
}
