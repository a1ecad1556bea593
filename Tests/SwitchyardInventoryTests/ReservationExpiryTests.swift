import Foundation
import GRPCCore
import Logging
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardInventory
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

@Suite("Reservation expiry, end to end")
struct ReservationExpiryTests {
    @Test("An unconfirmed reservation returns its units by itself once its time is up")
    func sweepReturnsStock() async throws {
        let directory = try PackagePaths.makeTemporaryDirectory()
        let configuration = InventoryConfiguration(
            grpc: .init(port: 0),
            databasePath: directory.appendingPathComponent("inventory.sqlite").path,
            seedDemoCatalogue: true,
            expirySweepInterval: .seconds(1)
        )
        let services = try await makeInventoryServices(configuration: configuration, logger: .silent)
        let server = try #require(services.first as? GRPCServerService)
        try await withRunningServices(services) { _ in
            let port = try await server.listeningAddress.port
            try await withLoopbackGRPCClient(port: port) { grpc in
                let client = Inventory_Inventory.Client(wrapping: grpc)
                let before = try await client.getStock(.with { $0.sku = "sku-2" }).quantity
                // Long enough that the check just below sees it held, even on a machine busy with every other test.
                _ = try await client.reserveStock(reserveRequest("expiring", [("sku-2", 5)], ttlSeconds: 3))
                #expect(try await client.getStock(.with { $0.sku = "sku-2" }).quantity == before - 5)
                try await eventually("the reservation to expire", timeout: .seconds(20)) {
                    try await client.getReservation(.with { $0.orderID = "expiring" }).reservation.status == .expired
                }
                #expect(try await client.getStock(.with { $0.sku = "sku-2" }).quantity == before)
            }
        }
    }
}
