import Foundation
import GRPCCore
import GRPCProtobuf
import SwiftProtobuf
import SwitchyardContracts
import SwitchyardGRPCTransport
import SwitchyardTestSupport
import Testing

/// `inventory.Inventory/GetStock` only, answering from a fixed table: enough for a foreign
/// client to exercise the transport.
struct FixedStockService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: "inventory.Inventory", method: "GetStock"),
            deserializer: ProtobufDeserializer<Inventory_StockRequest>(),
            serializer: ProtobufSerializer<Inventory_StockResponse>()
        ) { request, context in
            var sku = ""
            for try await message in request.messages { sku = message.sku }
            guard sku == "sku-1" else {
                throw RPCError(code: .notFound, message: "no such SKU: \(sku)")
            }
            var metadata: Metadata = [:]
            for value in request.metadata[stringValues: "x-request"] { metadata.addString(value, forKey: "x-echo") }
            for value in request.metadata[binaryValues: "x-trace-bin"] { metadata.addBinary(value, forKey: "x-trace-bin") }
            let reply = Inventory_StockResponse.with {
                $0.sku = sku
                $0.quantity = 42
            }
            return StreamingServerResponse(metadata: metadata) { writer in
                try await writer.write(reply)
                return [:]
            }
        }
    }
}

@Suite("SwitchyardHTTP2ServerTransport: interop with Python grpcio")
struct PythonInteropTests {
    static let client = """
        import sys
        sys.path.insert(0, sys.argv[1])
        import grpc
        import inventory_pb2, inventory_pb2_grpc

        channel = grpc.insecure_channel("127.0.0.1:" + sys.argv[2])
        stub = inventory_pb2_grpc.InventoryStub(channel)
        reply, call = stub.GetStock.with_call(
            inventory_pb2.StockRequest(sku="sku-1"),
            metadata=[("x-request", "from-python"), ("x-trace-bin", bytes([0, 1, 2, 255]))],
            timeout=10,
        )
        initial = dict(call.initial_metadata())
        print("unary", reply.sku, reply.quantity, initial.get("x-echo"), list(initial.get("x-trace-bin", b"")), call.code().name)
        try:
            stub.GetStock(inventory_pb2.StockRequest(sku="nope ü"), timeout=10)
            print("error none")
        except grpc.RpcError as error:
            print("error", error.code().name, error.details())
        futures = [stub.GetStock.future(inventory_pb2.StockRequest(sku="sku-1"), timeout=10) for _ in range(200)]
        print("concurrent", sum(1 for f in futures if f.result().quantity == 42))
        """

    @Test("A generated grpcio client calls GetStock: reply, metadata, errors, 200 concurrent calls")
    func pythonClient() async throws {
        let setup = try ManagedProcess(name: "ensure-python-tools", executable: URL(fileURLWithPath: "/bin/bash"), arguments: [PackagePaths.root.appendingPathComponent("scripts/ensure-python-tools").path])
        #expect(try await setup.waitForExit(timeout: .seconds(600)) == 0)

        let directory = try PackagePaths.makeTemporaryDirectory(prefix: "transport-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let protos = PackagePaths.root.appendingPathComponent("Protos")
        let protoc = try ManagedProcess(
            name: "grpc_tools.protoc",
            executable: PackagePaths.python,
            arguments: ["-m", "grpc_tools.protoc", "-I", protos.path, "--python_out=\(directory.path)", "--grpc_python_out=\(directory.path)", protos.appendingPathComponent("inventory.proto").path]
        )
        let protocStatus = try await protoc.waitForExit(timeout: .seconds(120))
        #expect(protocStatus == 0, "\(protoc.standardError)")
        let script = directory.appendingPathComponent("client.py")
        try Self.client.write(to: script, atomically: true, encoding: .utf8)

        try await withTransportServer(services: [FixedStockService()]) { server in
            let python = try ManagedProcess(name: "python client", executable: PackagePaths.python, arguments: [script.path, directory.path, String(server.port)])
            defer { python.stop() }
            let status = try await python.waitForExit(timeout: .seconds(120))
            let lines = python.standardOutput.split(separator: "\n").map(String.init)
            #expect(status == 0, "\(python.standardOutput)\n\(python.standardError)")
            #expect(lines.contains("unary sku-1 42 from-python [0, 1, 2, 255] OK"))
            #expect(lines.contains("error NOT_FOUND no such SKU: nope ü"))
            #expect(lines.contains("concurrent 200"))
        }
    }
}
