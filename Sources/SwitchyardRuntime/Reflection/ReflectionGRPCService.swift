package import GRPCCore
import GRPCProtobuf
import SwiftProtobuf
package import SwitchyardContracts

/// gRPC server reflection, served as both `grpc.reflection.v1` and `grpc.reflection.v1alpha`.
///
/// The two versions are the same messages under two package names, so they are byte-for-byte
/// identical on the wire. One implementation on the v1 types therefore serves both: the
/// v1alpha method is registered with the v1 message coders. grpcurl asks v1 first; Python's
/// grpcio-reflection client and grpc-go 1.33 know only v1alpha.
///
/// ```swift
/// let reflection = try ReflectionGRPCService(serviceNames: ["inventory.Inventory"], index: index)
/// let server = GRPCServer(transport: transport, services: [inventory, reflection])
/// ```
package struct ReflectionGRPCService: RegistrableRPCService {
    private let serviceNames: [String]
    private let index: DescriptorIndex

    /// The method descriptors of both versions.
    package static let methods = [
        Grpc_Reflection_V1_ServerReflection.Method.ServerReflectionInfo.descriptor,
        Grpc_Reflection_V1alpha_ServerReflection.Method.ServerReflectionInfo.descriptor,
    ]

    /// - Parameters:
    ///   - serviceNames: What `list_services` answers: the services this server really hosts.
    ///   - index: The descriptors of those services' files (and any others worth serving).
    package init(serviceNames: [String], index: DescriptorIndex) {
        self.serviceNames = serviceNames.sorted()
        self.index = index
    }

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        for method in Self.methods {
            router.registerHandler(
                forMethod: method,
                deserializer: ProtobufDeserializer<Grpc_Reflection_V1_ServerReflectionRequest>(),
                serializer: ProtobufSerializer<Grpc_Reflection_V1_ServerReflectionResponse>(),
                handler: { request, context in
                    StreamingServerResponse { writer in
                        for try await message in request.messages {
                            try await writer.write(self.answer(message))
                        }
                        return [:]
                    }
                }
            )
        }
    }

    /// The answer to one reflection request; errors become `error_response`, never a failed
    /// stream, as the protocol asks.
    package func answer(_ request: Grpc_Reflection_V1_ServerReflectionRequest) -> Grpc_Reflection_V1_ServerReflectionResponse {
        var response = Grpc_Reflection_V1_ServerReflectionResponse()
        response.validHost = request.host
        response.originalRequest = request
        switch request.messageRequest {
        case .listServices:
            response.listServicesResponse = .with { list in
                list.service = serviceNames.map { name in .with { $0.name = name } }
            }
        case .fileByFilename(let name):
            response.messageResponse = files(named: name, missing: "file not found: \(name)")
        case .fileContainingSymbol(let symbol):
            let name = index.fileName(declaring: symbol) ?? ""
            response.messageResponse = files(named: name, missing: "symbol not found: \(symbol)")
        case .fileContainingExtension(let request):
            response.messageResponse = .errorResponse(
                Self.error(.notFound, "no extension \(request.extensionNumber) of \(request.containingType)")
            )
        case .allExtensionNumbersOfType(let type):
            if index.hasMessageType(type) {
                response.allExtensionNumbersResponse = .with { $0.baseTypeName = type }
            } else {
                response.errorResponse = Self.error(.notFound, "type not found: \(type)")
            }
        case .none:
            response.errorResponse = Self.error(.invalidArgument, "the request names no message_request")
        }
        return response
    }

    private func files(named name: String, missing: String) -> Grpc_Reflection_V1_ServerReflectionResponse.OneOf_MessageResponse {
        guard let files = index.serializedFileWithDependencies(name) else {
            return .errorResponse(Self.error(.notFound, missing))
        }
        return .fileDescriptorResponse(.with { $0.fileDescriptorProto = files })
    }

    private static func error(_ code: RPCError.Code, _ message: String) -> Grpc_Reflection_V1_ErrorResponse {
        .with {
            $0.errorCode = Int32(code.rawValue)
            $0.errorMessage = message
        }
    }
}
