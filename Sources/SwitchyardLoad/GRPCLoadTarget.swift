package import GRPCCore
import SwiftProtobuf
import SwitchyardContracts

/// `inventory.Inventory/GetStock` against any implementation of the article's proto. Every
/// worker calls through one client, which keeps one HTTP/2 connection (as the bench's
/// grpc-load with `-conns 1`), so concurrency means calls in flight on it. Run it inside
/// `withGRPCClient`, which keeps the connection alive for the run.
package struct GRPCGetStockTarget<Transport: ClientTransport>: LoadTarget {
    package let client: GRPCClient<Transport>
    package let address: String
    package let sku: String

    package var name: String { "inventory.Inventory/GetStock \(address) sku=\(sku)" }

    package init(client: GRPCClient<Transport>, address: String, sku: String) {
        self.client = client
        self.address = address
        self.sku = sku
    }

    package func connect() async throws -> Connection {
        Connection(client: Inventory_Inventory.Client(wrapping: client), sku: sku)
    }

    package struct Connection: LoadConnection {
        let client: Inventory_Inventory.Client<Transport>
        let sku: String

        package func send(number: Int) async throws {
            let response = try await client.getStock(.with { $0.sku = sku })
            guard response.sku == sku else { throw LoadTargetError.badStatus(0) }
        }

        package func close() async {}
    }
}
