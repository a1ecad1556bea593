import SwitchyardRuntime
import SwitchyardStorage
import SwitchyardTestSupport
import Testing

@Suite("Database configuration: SQLite or PostgreSQL")
struct DatabaseConfigurationTests {
    @Test("No URL is SQLite; database.url puts every service on PostgreSQL in its own schema; a service's own URL wins")
    func selection() async throws {
        let none = try await SwitchyardConfigReader.make(commandLine: [:], environment: [:])
        #expect(try PostgresDatabaseConfiguration.configured(reader: none, service: "orders") == nil)

        let reader = try await SwitchyardConfigReader.make(
            commandLine: ["database.url": "postgres://app:s%40cret@db.internal:6543/switchyard", "database.maxConnections": "4"],
            environment: ["SWITCHYARD_FULFILLMENT_DATABASE_URL": "postgresql://ship@10.0.0.9/shipping", "SWITCHYARD_DATABASE_ACQUIRE_TIMEOUT_MILLISECONDS": "250"]
        )
        let orders = try #require(try PostgresDatabaseConfiguration.configured(reader: reader, service: "orders"))
        #expect(orders == PostgresDatabaseConfiguration(
            host: "db.internal", port: 6543, username: "app", password: "s@cret", database: "switchyard", schema: "orders",
            maxConnections: 4, acquireTimeout: .milliseconds(250)
        ))
        #expect(!orders.redactedDescription.contains("cret"))
        let fulfillment = try #require(try PostgresDatabaseConfiguration.configured(reader: reader, service: "fulfillment"))
        #expect(fulfillment.host == "10.0.0.9")
        #expect(fulfillment.port == 5432)
        #expect(fulfillment.database == "shipping")
        #expect(fulfillment.schema == "fulfillment")
    }

    @Test("A bad URL names its key and never echoes the password", arguments: [
        "mysql://u:hunter2@h/db", "postgres://u:hunter2@/db", "postgres://u:hunter2@h/db?sslmode=verify-full",
    ])
    func rejects(url: String) async throws {
        let reader = try await SwitchyardConfigReader.make(commandLine: ["inventory.database.url": url], environment: [:])
        do {
            _ = try PostgresDatabaseConfiguration.configured(reader: reader, service: "inventory")
            Issue.record("\(url) was accepted")
        } catch let error as DatabaseURLConfigurationError {
            #expect(error.key == "inventory.database.url")
            #expect(!error.description.contains("hunter2"), "\(error)")
        }
    }

    @Test("Database URLs are documented as secrets")
    func secrets() {
        #expect(PostgresDatabaseConfiguration.sharedSettings.first { $0.key == "database.url" }?.isSecret == true)
        #expect(PostgresDatabaseConfiguration.settings(service: "orders").isSecret)
    }
}
