import SwitchyardContractCheck
import Testing

@Suite("Event schemas against their committed snapshots")
struct EventCompatibilityTests {
    typealias Fixtures = ContractFixtures

    struct Change: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// The schema now; the snapshot is `ContractFixtures.schema()` (order.placed).
        var schema: String
        /// The finding's subject and a fragment of its message.
        var subject: String
        var message: String
    }

    @Test(
        "Incompatible changes are rejected, naming the property",
        arguments: [
            Change(
                testDescription: "a field removed",
                schema: Fixtures.schema(Fixtures.orderPlaced(with: "customerId", nil), required: ["orderId", "totalCents", "occurredAt"]),
                subject: "order.placed#/properties/customerId",
                message: "was removed"
            ),
            Change(
                testDescription: "a field renamed (customerId → customerID)",
                schema: Fixtures.schema(
                    Fixtures.orderPlaced(with: "customerId", nil) + [("customerID", #"{"type": "string", "minLength": 1}"#)],
                    required: ["orderId", "customerID", "totalCents", "occurredAt"]
                ),
                subject: "order.placed#/properties/customerId",
                message: "a rename is a removal plus an addition"
            ),
            Change(
                testDescription: "a field retyped (totalCents integer → string)",
                schema: Fixtures.schema(Fixtures.orderPlaced(with: "totalCents", #"{"type": "string"}"#)),
                subject: "order.placed#/properties/totalCents",
                message: "type changed from integer to string"
            ),
            Change(
                testDescription: "a new required field",
                schema: Fixtures.schema(
                    Fixtures.orderPlacedProperties + [("currency", #"{"type": "string"}"#)],
                    required: Fixtures.orderPlacedRequired + ["currency"]
                ),
                subject: "order.placed#/properties/currency",
                message: "is a new required property"
            ),
            Change(
                testDescription: "an optional field made required",
                schema: {
                    let properties = Fixtures.orderPlacedProperties + [("note", #"{"type": "string"}"#)]
                    return Fixtures.schema(properties, required: Fixtures.orderPlacedRequired + ["note"])
                }(),
                subject: "order.placed#/properties/note",
                message: "is a new required property"
            ),
            Change(
                testDescription: "a required field made optional",
                schema: Fixtures.schema(required: ["orderId", "totalCents", "occurredAt"]),
                subject: "order.placed#/properties/customerId",
                message: "no longer required"
            ),
            Change(
                testDescription: "a format changed",
                schema: Fixtures.schema(Fixtures.orderPlaced(with: "orderId", #"{"type": "string", "minLength": 1, "format": "date-time"}"#)),
                subject: "order.placed#/properties/orderId",
                message: "format changed"
            ),
            Change(
                testDescription: "minLength raised",
                schema: Fixtures.schema(Fixtures.orderPlaced(with: "orderId", #"{"type": "string", "minLength": 5}"#)),
                subject: "order.placed#/properties/orderId",
                message: "minLength tightened"
            ),
            Change(
                testDescription: "minimum raised",
                schema: Fixtures.schema(Fixtures.orderPlaced(with: "totalCents", #"{"type": "integer", "minimum": 1}"#)),
                subject: "order.placed#/properties/totalCents",
                message: "minimum tightened"
            ),
        ]
    )
    func rejectsIncompatibleChange(_ change: Change) throws {
        let contracts = try ContractFixtures.contracts(schema: change.schema, snapshot: ContractFixtures.schema())
        let findings = ContractCheck.run(contracts).findings.filter { $0.rule == .eventCompatibility }
        #expect(findings.contains { $0.subject == change.subject && $0.message.contains(change.message) }, "\(findings)")
    }

    @Test("Tightening additionalProperties is rejected")
    func rejectsTightenedAdditionalProperties() throws {
        let contracts = try ContractFixtures.contracts(
            schema: ContractFixtures.schema(additionalProperties: "false"),
            snapshot: ContractFixtures.schema(additionalProperties: "true")
        )
        let findings = ContractCheck.run(contracts).findings
        #expect(findings.map(\.subject) == ["order.placed#/additionalProperties"])
        #expect(findings.map(\.rule) == [.eventCompatibility])
    }

    @Test("An event type whose schema is gone, though its snapshot remains, is rejected")
    func rejectsRemovedEventType() throws {
        var contracts = try ContractFixtures.contracts()
        contracts.eventSnapshots["order.cancelled"] = Array(ContractFixtures.schema().utf8)
        let findings = ContractCheck.run(contracts).findings
        #expect(findings.map(\.subject) == ["order.cancelled"])
        #expect(findings.map(\.rule) == [.eventCompatibility])
    }

    @Test(
        "Compatible changes pass: an optional property added, additionalProperties loosened, annotations edited",
        arguments: [
            ContractFixtures.schema(ContractFixtures.orderPlacedProperties + [("note", #"{"type": "string"}"#)]),
            ContractFixtures.schema(additionalProperties: "true"),
            ContractFixtures.schema(ContractFixtures.orderPlaced(with: "orderId", #"{"type": "string", "minLength": 1, "description": "the order"}"#)),
            ContractFixtures.schema(ContractFixtures.orderPlaced(with: "totalCents", #"{"type": "integer"}"#)),  // minimum loosened
        ]
    )
    func acceptsCompatibleChange(schema: String) throws {
        let report = ContractCheck.run(try ContractFixtures.contracts(schema: schema, snapshot: ContractFixtures.schema()))
        #expect(report.findings == [])
        #expect(report.changedSinceSnapshot == ["order.placed"])
    }

    @Test("A schema without a snapshot is rejected until the snapshot is written")
    func requiresSnapshot() throws {
        var contracts = try ContractFixtures.contracts()
        contracts.eventSnapshots = [:]
        let findings = ContractCheck.run(contracts).findings
        #expect(findings.map(\.rule) == [.snapshot])
        #expect(ContractSnapshots.decide(ContractCheck.run(contracts), allowBreaking: false) == .write(accepting: []))
    }

    @Test("--update-snapshots refuses an incompatible change unless --allow-breaking accepts it")
    func snapshotUpdatePolicy() throws {
        let removed = ContractFixtures.schema(ContractFixtures.orderPlaced(with: "customerId", nil), required: ["orderId", "totalCents", "occurredAt"])
        let example = #"{"orderId": "ord_1", "totalCents": 4998, "occurredAt": "2026-11-24T22:26:00.000Z"}"#
        let report = ContractCheck.run(try ContractFixtures.contracts(schema: removed, snapshot: ContractFixtures.schema(), example: example))
        #expect(report.findings.map(\.rule) == [.eventCompatibility])
        guard case .refuse(let blocking, _) = ContractSnapshots.decide(report, allowBreaking: false) else {
            Issue.record("an incompatible change must not be snapshotted without --allow-breaking")
            return
        }
        #expect(blocking == report.findings)
        #expect(ContractSnapshots.decide(report, allowBreaking: true) == .write(accepting: report.findings))
    }

    @Test("--update-snapshots refuses contracts that break another rule, even with --allow-breaking")
    func snapshotUpdateRefusesInvalidContracts() throws {
        let command = ContractFixtures.schema(ContractFixtures.orderPlacedProperties + [("notifyWarehouse", #"{"type": "boolean"}"#)])
        let report = ContractCheck.run(try ContractFixtures.contracts(schema: command, snapshot: ContractFixtures.schema()))
        guard case .refuse(let blocking, _) = ContractSnapshots.decide(report, allowBreaking: true) else {
            Issue.record("a command field must not be snapshotted")
            return
        }
        #expect(blocking.map(\.rule) == [.commandField])
    }
}
