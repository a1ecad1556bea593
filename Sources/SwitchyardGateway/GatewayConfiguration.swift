package import Configuration
package import SwitchyardRuntime

/// Everything the gateway reads, under `gateway.`.
package struct GatewayConfiguration: Sendable {
    package static let defaultHTTPPort = 8080

    /// `gateway.http.host` (default 127.0.0.1): the address the public REST listener binds.
    package var host: String
    /// `gateway.http.port` (default 8080, as in the article; 0 picks a free one).
    package var port: Int
    /// `gateway.requestTimeoutMilliseconds` (default 2000): every request's deadline.
    package var requestTimeout: Duration
    /// `gateway.maxBodyBytes` (default 1048576): larger bodies are refused with 413.
    package var maxBodyBytes: Int
    /// `gateway.orders.host` / `.port` (default 127.0.0.1:50052) / `.transport` (default
    /// `switchyard`; also used when dev mode finds orders through its address book).
    package var orders: GRPCClientConfiguration
    /// `gateway.inventory.host` / `.port` (default 127.0.0.1:50051) / `.transport`.
    package var inventory: GRPCClientConfiguration
    /// `gateway.orders.maxConcurrentCalls` / `gateway.inventory.maxConcurrentCalls` (default
    /// 256 each): the bulkheads, calls in flight to each at once.
    package var ordersMaxConcurrentCalls: Int
    package var inventoryMaxConcurrentCalls: Int

    package init(
        host: String = "127.0.0.1",
        port: Int = defaultHTTPPort,
        requestTimeout: Duration = .seconds(2),
        maxBodyBytes: Int = 1 << 20,
        orders: GRPCClientConfiguration = .init(port: 50052),
        inventory: GRPCClientConfiguration = .init(port: 50051),
        ordersMaxConcurrentCalls: Int = 256,
        inventoryMaxConcurrentCalls: Int = 256
    ) {
        self.host = host
        self.port = port
        self.requestTimeout = requestTimeout
        self.maxBodyBytes = maxBodyBytes
        self.orders = orders
        self.inventory = inventory
        self.ordersMaxConcurrentCalls = ordersMaxConcurrentCalls
        self.inventoryMaxConcurrentCalls = inventoryMaxConcurrentCalls
    }

    package init(reader: ConfigReader) throws {
        self.init(
            host: reader.string(forKey: "gateway.http.host", default: "127.0.0.1"),
            port: try reader.port(forKey: "gateway.http.port", default: Self.defaultHTTPPort),
            requestTimeout: .milliseconds(try reader.positiveInt(forKey: "gateway.requestTimeoutMilliseconds", default: 2000)),
            maxBodyBytes: try reader.positiveInt(forKey: "gateway.maxBodyBytes", default: 1 << 20),
            orders: .init(
                host: reader.string(forKey: "gateway.orders.host", default: "127.0.0.1"),
                port: try reader.port(forKey: "gateway.orders.port", default: 50052),
                transport: try GRPCClientConfiguration.transport(reader: reader, key: "gateway.orders.transport"),
                replicas: try GRPCClientConfiguration.replicas(reader: reader, key: "gateway.orders.addresses")
            ),
            inventory: .init(
                host: reader.string(forKey: "gateway.inventory.host", default: "127.0.0.1"),
                port: try reader.port(forKey: "gateway.inventory.port", default: 50051),
                transport: try GRPCClientConfiguration.transport(reader: reader, key: "gateway.inventory.transport"),
                replicas: try GRPCClientConfiguration.replicas(reader: reader, key: "gateway.inventory.addresses")
            ),
            ordersMaxConcurrentCalls: try reader.positiveInt(forKey: "gateway.orders.maxConcurrentCalls", default: 256),
            inventoryMaxConcurrentCalls: try reader.positiveInt(forKey: "gateway.inventory.maxConcurrentCalls", default: 256)
        )
    }

    package static let settings: [ConfigurationSetting] = [
        .init(key: "gateway.http.host", type: "string", defaultValue: "127.0.0.1", summary: "address the public REST listener binds"),
        .init(key: "gateway.http.port", type: "int", defaultValue: "8080", summary: "its port; 0 picks a free one"),
        .init(key: "gateway.requestTimeoutMilliseconds", type: "int", defaultValue: "2000", summary: "every request's deadline, passed down every gRPC hop"),
        .init(key: "gateway.maxBodyBytes", type: "int", defaultValue: "1048576", summary: "larger request bodies get 413"),
        .init(key: "gateway.orders.host", type: "string", defaultValue: "127.0.0.1", summary: "where the orders service listens"),
        .init(key: "gateway.orders.port", type: "int", defaultValue: "50052", summary: "the orders service's gRPC port"),
        GRPCClientConfiguration.transportSetting(key: "gateway.orders.transport", downstream: "orders"),
        GRPCClientConfiguration.replicasSetting(key: "gateway.orders.addresses", downstream: "orders"),
        .init(key: "gateway.inventory.host", type: "string", defaultValue: "127.0.0.1", summary: "where the inventory service listens"),
        .init(key: "gateway.inventory.port", type: "int", defaultValue: "50051", summary: "the inventory service's gRPC port"),
        GRPCClientConfiguration.transportSetting(key: "gateway.inventory.transport", downstream: "inventory"),
        GRPCClientConfiguration.replicasSetting(key: "gateway.inventory.addresses", downstream: "inventory"),
        .init(key: "gateway.orders.maxConcurrentCalls", type: "int", defaultValue: "256", summary: "bulkhead: calls to orders in flight at once"),
        .init(key: "gateway.inventory.maxConcurrentCalls", type: "int", defaultValue: "256", summary: "bulkhead: calls to inventory in flight at once"),
    ]
}
