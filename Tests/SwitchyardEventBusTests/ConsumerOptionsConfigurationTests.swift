import SwitchyardEventBus
import SwitchyardRuntime
import Testing

@Suite("Consumer group configuration")
struct ConsumerOptionsConfigurationTests {
    @Test("bus.groups.<group>.* sets that group's policy only; the others keep the defaults")
    func perGroup() async throws {
        let reader = try await SwitchyardConfigReader.make(
            commandLine: ["bus.groups.fulfillment.maxAttempts": "2", "bus.groups.fulfillment.ackTimeoutSeconds": "7"],
            environment: ["SWITCHYARD_BUS_GROUPS_FULFILLMENT_BATCH_SIZE": "16"]
        )
        let fulfillment = try ConsumerOptions(reader: reader, group: "fulfillment")
        #expect(fulfillment.maxAttempts == 2)
        #expect(fulfillment.ackTimeout == .seconds(7))
        #expect(fulfillment.batchSize == 16)
        #expect(try ConsumerOptions(reader: reader, group: "orders") == ConsumerOptions())
    }

    @Test("A value that is not a positive integer is refused, naming the key")
    func refusesBadValues() async throws {
        let reader = try await SwitchyardConfigReader.make(commandLine: ["bus.groups.orders.maxAttempts": "0"], environment: [:])
        #expect {
            try ConsumerOptions(reader: reader, group: "orders")
        } throws: { error in
            "\(error)".contains("bus.groups.orders.maxAttempts")
        }
    }

    @Test("Every group's keys are documented")
    func documented() {
        let keys = ConsumerOptions.settings(group: "inventory").map(\.key)
        #expect(keys == [
            "bus.groups.inventory.maxAttempts", "bus.groups.inventory.initialBackoffMilliseconds",
            "bus.groups.inventory.maxBackoffMilliseconds", "bus.groups.inventory.ackTimeoutSeconds", "bus.groups.inventory.batchSize",
        ])
    }
}
