import SwitchyardContractCheck
import Testing

@Suite("Event rules: past-tense names, no commands, occurredAt, catalogue and examples")
struct EventRuleTests {
    @Test(
        "Names that are not <entity>.<past participle> are rejected",
        arguments: [
            "order.place",  // present tense: the seed's command-shaped name
            "order.shipNow",  // camel case and an imperative
            "order.ship",
            "order.proceed",  // ends in -ed, but present tense
            "order",  // no entity
            "placed",
            "Order.Placed",
            "order..placed",
            "order.placed.",
            "order-placed",
            "order.placed_now",
        ]
    )
    func rejectsNames(type: String) {
        let findings = EventNameRule.findings(type: type)
        #expect(findings.map(\.rule) == [.eventName], "\(type) should be rejected")
        #expect(findings.first?.subject == type)
    }

    @Test(
        "Past-tense names pass, irregular participles included",
        arguments: ["order.placed", "shipment.dispatched", "payment.paid", "invoice.sent", "order.line.added", "report.written", "stock2.reserved"]
    )
    func acceptsNames(type: String) {
        #expect(EventNameRule.findings(type: type).isEmpty)
    }

    @Test(
        "Command-like field names are rejected",
        arguments: [
            "notifyWarehouse",  // the seed article's example
            "NotifyWarehouse", "notify_warehouse", "notify", "sendEmail", "shouldRetry", "triggerRefund",
            "doSomething", "do_sync", "executePayment", "performCheck", "pleaseShip", "mustConfirm", "invokeBilling",
            "command", "action", "instruction", "nextAction", "followUpCommand", "ACTION",
        ]
    )
    func rejectsCommandFields(field: String) {
        #expect(CommandFieldRule.reason(field: field) != nil, "\(field) should be command-like")
    }

    @Test(
        "Fact-like field names pass, even when they begin with a command's letters",
        arguments: [
            "orderId", "document", "donation", "senderId", "triggeredBy", "executedAt", "notifiedAt", "shouldered",
            "transactionId", "shipmentId", "actor", "commander", "totalCents", "occurredAt", "HTTPStatus",
        ]
    )
    func acceptsFactFields(field: String) {
        #expect(CommandFieldRule.reason(field: field) == nil, "\(field) should pass")
    }

    @Test("A schema with notifyWarehouse is rejected, and so is an example carrying notifyWarehouse: true")
    func rejectsNotifyWarehouseInSchemaAndExample() throws {
        let properties = ContractFixtures.orderPlaced(with: "notifyWarehouse", #"{"type": "boolean"}"#)
        let example = #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": 1, "occurredAt": "2026-11-24T22:26:00Z", "notifyWarehouse": true}"#
        let findings = ContractCheck.run(try ContractFixtures.contracts(schema: ContractFixtures.schema(properties), example: example)).findings
        #expect(findings.map(\.rule) == [.commandField, .commandField])
        #expect(findings.map(\.subject) == ["order.placed example/notifyWarehouse", "order.placed#/properties/notifyWarehouse"].sorted())
    }

    @Test("A command field nested in an object property is found")
    func rejectsNestedCommandField() throws {
        let properties = ContractFixtures.orderPlaced(
            with: "shipping",
            #"{"type": "object", "properties": {"address": {"type": "string"}, "sendConfirmation": {"type": "boolean"}}}"#
        )
        let findings = ContractCheck.run(try ContractFixtures.contracts(schema: ContractFixtures.schema(properties))).findings
        #expect(findings.map(\.subject) == ["order.placed#/properties/shipping/properties/sendConfirmation"])
        #expect(findings.map(\.rule) == [.commandField])
    }

    struct OccurredAtCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var properties: ContractFixtures.Properties
        var required: [String]
    }

    @Test(
        "A missing or mistyped occurredAt is rejected",
        arguments: [
            OccurredAtCase(
                testDescription: "missing occurredAt",
                properties: ContractFixtures.orderPlaced(with: "occurredAt", nil),
                required: ["orderId", "customerId", "totalCents"]
            ),
            OccurredAtCase(
                testDescription: "occurredAt not required",
                properties: ContractFixtures.orderPlacedProperties,
                required: ["orderId", "customerId", "totalCents"]
            ),
            OccurredAtCase(
                testDescription: "occurredAt a number",
                properties: ContractFixtures.orderPlaced(with: "occurredAt", #"{"type": "integer"}"#),
                required: ContractFixtures.orderPlacedRequired
            ),
            OccurredAtCase(
                testDescription: "occurredAt a string without format date-time",
                properties: ContractFixtures.orderPlaced(with: "occurredAt", #"{"type": "string"}"#),
                required: ContractFixtures.orderPlacedRequired
            ),
        ]
    )
    func rejectsOccurredAt(_ testCase: OccurredAtCase) throws {
        let schema = try JSONSchema(JSONValue(parsing: Array(ContractFixtures.schema(testCase.properties, required: testCase.required).utf8)))
        let findings = OccurredAtRule.findings(in: schema, type: "order.placed")
        #expect(!findings.isEmpty)
        #expect(findings.allSatisfy { $0.rule == .occurredAt && $0.subject == "order.placed" })
    }

    @Test("The order.placed fixture passes every rule")
    func fixturePasses() throws {
        #expect(ContractCheck.run(try ContractFixtures.contracts()).findings == [])
    }

    @Test("A catalogued type without a schema, and a schema without a catalogued type, are rejected")
    func catalogueAndSchemasMatch() throws {
        var contracts = try ContractFixtures.contracts()
        contracts.events.append(DeclaredEvent(type: "payment.captured", example: .success(Array("{}".utf8))))
        contracts.schemas["refund.issued"] = Array(ContractFixtures.schema().utf8)
        contracts.eventSnapshots["refund.issued"] = contracts.schemas["refund.issued"]
        let findings = ContractCheck.run(contracts).findings.filter { $0.rule == .eventCatalogue }
        #expect(findings.map(\.subject) == ["payment.captured", "refund.issued"])
    }

    @Test(
        "An example that does not validate against its schema is rejected",
        arguments: [
            #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": 1}"#,  // no occurredAt
            #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": "1", "occurredAt": "2026-11-24T22:26:00Z"}"#,
            #"{"orderId": "", "customerId": "c-1", "totalCents": 1, "occurredAt": "2026-11-24T22:26:00Z"}"#,
            #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": -1, "occurredAt": "2026-11-24T22:26:00Z"}"#,
            #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": 1, "occurredAt": "yesterday"}"#,
            #"{"orderId": "ord_1", "customerId": "c-1", "totalCents": 1, "occurredAt": "2026-11-24T22:26:00Z", "extra": 1}"#,
        ]
    )
    func rejectsInvalidExample(example: String) throws {
        let findings = ContractCheck.run(try ContractFixtures.contracts(example: example)).findings
        #expect(findings.map(\.rule) == [.example])
    }

    @Test("A schema keyword the checker does not understand is rejected, not ignored")
    func rejectsUnsupportedKeyword() throws {
        let properties = ContractFixtures.orderPlaced(with: "orderId", #"{"type": "string", "pattern": "^ord_"}"#)
        let findings = ContractCheck.run(try ContractFixtures.contracts(schema: ContractFixtures.schema(properties))).findings
        #expect(findings.map(\.rule) == [.schema])
        #expect(findings.first?.message.contains("pattern") == true)
    }
}
