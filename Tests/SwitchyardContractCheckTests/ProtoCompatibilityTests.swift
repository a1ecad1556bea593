import SwiftProtobuf
import SwitchyardContractCheck
import Testing

@Suite("Protobuf contracts against their committed snapshot")
struct ProtoCompatibilityTests {
    typealias File = Google_Protobuf_FileDescriptorProto
    typealias Fixtures = ContractFixtures

    struct Change: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var change: @Sendable (inout File) -> Void
        var subject: String
        var message: String
    }

    @Test(
        "Incompatible changes are rejected, naming the symbol",
        arguments: [
            Change(
                testDescription: "an RPC removed",
                change: { $0.service[0].method.removeAll { $0.name == "ListStock" } },
                subject: "inventory.Inventory.ListStock",
                message: "RPC removed"
            ),
            Change(
                testDescription: "a field removed from a message",
                change: { $0.messageType[1].field.removeAll { $0.name == "quantity" } },
                subject: "inventory.StockResponse.quantity",
                message: "field 2 removed"
            ),
            Change(
                testDescription: "a field number reused by another name",
                change: { $0.messageType[1].field[1] = Fixtures.field("reserved_quantity", 2, .int32) },
                subject: "inventory.StockResponse.quantity",
                message: "field number 2 is reused by \"reserved_quantity\""
            ),
            Change(
                testDescription: "a field retyped (int32 → int64)",
                change: { $0.messageType[1].field[1].type = .int64 },
                subject: "inventory.StockResponse.quantity",
                message: "retyped from int32 to int64"
            ),
            Change(
                testDescription: "a field made repeated",
                change: { $0.messageType[0].field[0].label = .repeated },
                subject: "inventory.StockRequest.sku",
                message: "retyped from string to repeated string"
            ),
            Change(
                testDescription: "a message field pointed at another message type",
                change: { $0.messageType[3].field[0].typeName = ".inventory.StockRequest" },
                subject: "inventory.ListStockResponse.items",
                message: "retyped from repeated inventory.StockResponse to repeated inventory.StockRequest"
            ),
            Change(
                testDescription: "an RPC's input type changed",
                change: { $0.service[0].method[0].inputType = ".inventory.ListStockRequest" },
                subject: "inventory.Inventory.GetStock",
                message: "input type changed from inventory.StockRequest to inventory.ListStockRequest"
            ),
            Change(
                testDescription: "an RPC's output type changed",
                change: { $0.service[0].method[0].outputType = ".inventory.ListStockResponse" },
                subject: "inventory.Inventory.GetStock",
                message: "output type changed"
            ),
            Change(
                testDescription: "an RPC made server streaming",
                change: { $0.service[0].method[0].serverStreaming = true },
                subject: "inventory.Inventory.GetStock",
                message: "streaming changed from unary to server streaming"
            ),
            Change(
                testDescription: "a service removed",
                change: { $0.service = [] },
                subject: "inventory.Inventory",
                message: "service removed"
            ),
            Change(
                testDescription: "a message removed",
                change: { $0.messageType.removeAll { $0.name == "Reservation" } },
                subject: "inventory.Reservation",
                message: "message removed"
            ),
            Change(
                testDescription: "a file renamed (removed)",
                change: { $0.name = "stock.proto" },
                subject: "inventory.proto",
                message: "file removed"
            ),
            Change(
                testDescription: "a package renamed",
                change: { $0.package = "stock" },
                subject: "inventory.Inventory",
                message: "service removed"
            ),
            Change(
                testDescription: "an enum value removed",
                change: { $0.enumType[0].value.removeLast() },
                subject: "inventory.ReservationStatus.RESERVATION_STATUS_CONFIRMED",
                message: "enum value 2 removed"
            ),
            Change(
                testDescription: "an enum value number reused",
                change: { $0.enumType[0].value[2].name = "RESERVATION_STATUS_RELEASED" },
                subject: "inventory.ReservationStatus.RESERVATION_STATUS_CONFIRMED",
                message: "enum value 2 is reused by RESERVATION_STATUS_RELEASED"
            ),
        ]
    )
    func rejectsIncompatibleChange(_ change: Change) {
        let findings = ProtoCompatibility.findings(current: Fixtures.descriptorSet(change.change), snapshot: Fixtures.descriptorSet())
        #expect(findings.allSatisfy { $0.rule == .protoCompatibility })
        #expect(findings.contains { $0.subject == change.subject && $0.message.contains(change.message) }, "\(findings)")
    }

    @Test("A snapshot-reserved field number taken back into use is rejected")
    func rejectsReusedReservedNumber() {
        let snapshot = Fixtures.descriptorSet {
            $0.messageType[1].field.removeLast()
            $0.messageType[1].reservedRange = [.with { $0.start = 2; $0.end = 3 }]
        }
        let current = Fixtures.descriptorSet { $0.messageType[1].field[1].name = "on_hand" }
        let findings = ProtoCompatibility.findings(current: current, snapshot: snapshot)
        #expect(findings.map(\.subject) == ["inventory.StockResponse.on_hand"])
        #expect(findings.first?.message.contains("was reserved") == true)
    }

    @Test(
        "Compatible changes pass: fields, RPCs, messages and enum values added, a field removed with its number reserved, comments changed",
        arguments: [
            Change(
                testDescription: "a field added",
                change: { $0.messageType[1].field.append(Fixtures.field("reserved", 3, .int32)) },
                subject: "",
                message: ""
            ),
            Change(
                testDescription: "an RPC and its messages added",
                change: {
                    $0.messageType.append(Fixtures.message("PingRequest", []))
                    $0.service[0].method.append(Fixtures.method("Ping", "PingRequest", "PingRequest"))
                },
                subject: "",
                message: ""
            ),
            Change(
                testDescription: "an enum value added",
                change: { $0.enumType[0].value.append(Fixtures.enumValue("RESERVATION_STATUS_EXPIRED", 3)) },
                subject: "",
                message: ""
            ),
            Change(
                testDescription: "a field removed and its number reserved",
                change: {
                    $0.messageType[1].field.removeLast()
                    $0.messageType[1].reservedRange = [.with { $0.start = 2; $0.end = 3 }]
                    $0.messageType[1].reservedName = ["quantity"]
                },
                subject: "",
                message: ""
            ),
            Change(
                testDescription: "comments (source info) changed",
                change: { $0.sourceCodeInfo = .with { $0.location = [.with { $0.leadingComments = "new words" }] } },
                subject: "",
                message: ""
            ),
        ]
    )
    func acceptsCompatibleChange(_ change: Change) {
        #expect(ProtoCompatibility.findings(current: Fixtures.descriptorSet(change.change), snapshot: Fixtures.descriptorSet()) == [])
    }

    @Test("Through the whole check: a removed RPC fails the run, an unchanged set passes with its snapshot up to date")
    func wholeCheck() throws {
        let broken = try ContractFixtures.contracts(descriptors: Fixtures.descriptorSet())
        var contracts = broken
        contracts.descriptorSet = Fixtures.descriptorSet { $0.service[0].method.removeFirst() }
        #expect(ContractCheck.run(contracts).findings.map(\.subject) == ["inventory.Inventory.GetStock"])
        let unchanged = ContractCheck.run(broken)
        #expect(unchanged.findings == [])
        #expect(unchanged.changedSinceSnapshot == [])
    }
}
