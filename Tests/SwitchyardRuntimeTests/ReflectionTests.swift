import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardRuntime
import SwitchyardTestSupport
import Testing

/// A two-file descriptor set where `shop.proto` imports `money.proto`, to check that file
/// answers carry their imports.
private func syntheticIndex() throws -> DescriptorIndex {
    var money = Google_Protobuf_FileDescriptorProto()
    money.name = "money.proto"
    money.package = "money"
    money.messageType = [.with { $0.name = "Cents" }]
    var shop = Google_Protobuf_FileDescriptorProto()
    shop.name = "shop.proto"
    shop.package = "shop"
    shop.dependency = ["money.proto"]
    shop.messageType = [.with { message in
        message.name = "Order"
        message.nestedType = [.with { $0.name = "Line" }]
        message.enumType = [.with { $0.name = "State" }]
    }]
    shop.enumType = [.with { $0.name = "Kind" }]
    shop.service = [.with { service in
        service.name = "Shop"
        service.method = [.with { $0.name = "Buy" }]
    }]
    let set = Google_Protobuf_FileDescriptorSet.with { $0.file = [shop, money] }
    return try DescriptorIndex(serializedFileDescriptorSet: try set.serializedBytes())
}

private func fileNames(_ files: [Data]) throws -> [String] {
    try files.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name }
}

@Suite("Descriptor index")
struct DescriptorIndexTests {
    @Test("Every kind of symbol maps to its file", arguments: [
        "shop.Order", "shop.Order.Line", "shop.Order.State", "shop.Kind", "shop.Shop", "shop.Shop.Buy",
    ])
    func symbols(symbol: String) throws {
        #expect(try syntheticIndex().fileName(declaring: symbol) == "shop.proto")
    }

    @Test("A file comes with everything it imports, itself first")
    func dependencies() throws {
        let index = try syntheticIndex()
        #expect(try fileNames(#require(index.serializedFileWithDependencies("shop.proto"))) == ["shop.proto", "money.proto"])
        #expect(try fileNames(#require(index.serializedFileWithDependencies("money.proto"))) == ["money.proto"])
        #expect(index.serializedFileWithDependencies("nope.proto") == nil)
        #expect(index.fileName(declaring: "shop.Nope") == nil)
    }

    @Test("Bytes that are not a descriptor set are refused with a clear error")
    func garbage() {
        #expect(throws: DescriptorIndexError.self) {
            try DescriptorIndex(serializedFileDescriptorSet: Data([0xFF, 0xFF, 0xFF, 0x01]))
        }
    }

    @Test("The embedded set holds every contract file")
    func embedded() throws {
        let index = try DescriptorIndex(base64: GeneratedDescriptorSet.base64)
        #expect(index.fileName(declaring: "inventory.Inventory") == "inventory.proto")
        #expect(index.fileName(declaring: "inventory.Inventory.GetStock") == "inventory.proto")
        #expect(index.fileName(declaring: "grpc.health.v1.Health") == "grpc/health/v1/health.proto")
        #expect(index.fileName(declaring: "grpc.reflection.v1.ServerReflection") == "grpc/reflection/v1/reflection.proto")
        #expect(index.fileName(declaring: "grpc.reflection.v1alpha.ServerReflection") == "grpc/reflection/v1alpha/reflection.proto")
    }
}

@Suite("Server reflection")
struct ReflectionTests {
    @Test("Unknown files, symbols and extensions get NOT_FOUND error responses, not a failed stream")
    func errors() throws {
        let service = ReflectionGRPCService(serviceNames: ["shop.Shop"], index: try syntheticIndex())
        for request in [
            Grpc_Reflection_V1_ServerReflectionRequest.with { $0.fileByFilename = "nope.proto" },
            .with { $0.fileContainingSymbol = "shop.Nope" },
            .with { $0.fileContainingExtension = .with { $0.containingType = "shop.Order"; $0.extensionNumber = 100 } },
            .with { $0.allExtensionNumbersOfType = "shop.Nope" },
        ] {
            let response = service.answer(request)
            #expect(response.errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
            #expect(response.originalRequest == request)
        }
        #expect(service.answer(.with { $0.host = "h" }).errorResponse.errorCode == Int32(RPCError.Code.invalidArgument.rawValue))
        #expect(service.answer(.with { $0.allExtensionNumbersOfType = "shop.Order" }).allExtensionNumbersResponse.baseTypeName == "shop.Order")
    }

    /// Lists services and fetches the file that defines `inventory.Inventory` from a server
    /// hosting the real descriptor set, speaking one of the two reflection versions. The
    /// client side knows only reflection's own messages: it learns GetStock from the wire.
    private func discoverInventory(port: Int, version: String) async throws -> (services: [String], methods: [String]) {
        try await withLoopbackGRPCClient(port: port) { grpc in
            let requests: [Grpc_Reflection_V1_ServerReflectionRequest] = [
                .with { $0.listServices = "" },
                .with { $0.fileContainingSymbol = "inventory.Inventory" },
            ]
            return try await grpc.bidirectionalStreaming(
                request: StreamingClientRequest(of: Grpc_Reflection_V1_ServerReflectionRequest.self) { writer in
                    try await writer.write(contentsOf: requests)
                },
                descriptor: MethodDescriptor(fullyQualifiedService: "grpc.reflection.\(version).ServerReflection", method: "ServerReflectionInfo"),
                serializer: ProtobufCoder<Grpc_Reflection_V1_ServerReflectionRequest>(),
                deserializer: ProtobufCoder<Grpc_Reflection_V1_ServerReflectionResponse>(),
                options: .defaults
            ) { response in
                var services: [String] = []
                var methods: [String] = []
                for try await message in response.messages {
                    services += message.listServicesResponse.service.map(\.name)
                    for bytes in message.fileDescriptorResponse.fileDescriptorProto {
                        let file = try Google_Protobuf_FileDescriptorProto(serializedBytes: bytes)
                        methods += file.service.filter { $0.name == "Inventory" }.flatMap { $0.method.map(\.name) }
                    }
                }
                return (services, methods)
            }
        }
    }

    @Test("A generic client lists the services and fetches the file defining inventory.Inventory", arguments: ["v1", "v1alpha"])
    func overTheWire(version: String) async throws {
        try await withTestServer(services: [StubInventoryService()]) { _, port, _ in
            let (services, methods) = try await discoverInventory(port: port, version: version)
            #expect(services == [
                "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection", "inventory.Inventory",
            ])
            #expect(methods.first == "GetStock")
            #expect(methods.contains("ReserveStock"))
        }
    }
}

/// Protobuf coding for tests that call methods by descriptor.
struct ProtobufCoder<Message: SwiftProtobuf.Message & Sendable>: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        Bytes(try message.serializedBytes() as [UInt8])
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { try Message(serializedBytes: Array($0)) }
    }
}

/// Registers `inventory.Inventory/GetStock` so reflection lists the service; the call answers
/// UNIMPLEMENTED. The runtime's tests need the service's name, not the inventory itself.
struct StubInventoryService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Inventory_Inventory.Method.GetStock.descriptor,
            deserializer: RawDeserializer(),
            serializer: RawSerializer()
        ) { _, _ in
            StreamingServerResponse(error: RPCError(code: .unimplemented, message: "stub"))
        }
    }
}
