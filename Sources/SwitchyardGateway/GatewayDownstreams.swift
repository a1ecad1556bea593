package import GRPCCore
import SwiftProtobuf
package import SwitchyardContracts
package import SwitchyardRuntime

/// The gRPC services the gateway calls, each with its own call policy and bulkhead, so a slow
/// inventory can never take the slots orders calls need (and the other way round).
package struct GatewayDownstreams: Sendable {
    package let orders: Orders_Orders.Client<ErasedGRPCClientTransport>
    package let ordersPolicy: DownstreamCallPolicy
    package let ordersHealth: Grpc_Health_V1_Health.Client<ErasedGRPCClientTransport>
    package let inventory: Inventory_Inventory.Client<ErasedGRPCClientTransport>
    package let inventoryPolicy: DownstreamCallPolicy
    package let inventoryHealth: Grpc_Health_V1_Health.Client<ErasedGRPCClientTransport>

    package init(
        orders: GRPCClient<ErasedGRPCClientTransport>,
        ordersPolicy: DownstreamCallPolicy,
        inventory: GRPCClient<ErasedGRPCClientTransport>,
        inventoryPolicy: DownstreamCallPolicy
    ) {
        self.orders = Orders_Orders.Client(wrapping: orders)
        self.ordersPolicy = ordersPolicy
        self.ordersHealth = Grpc_Health_V1_Health.Client(wrapping: orders)
        self.inventory = Inventory_Inventory.Client(wrapping: inventory)
        self.inventoryPolicy = inventoryPolicy
        self.inventoryHealth = Grpc_Health_V1_Health.Client(wrapping: inventory)
    }
}
