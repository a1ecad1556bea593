"""A generic gRPC client with no generated inventory code: grpcio-reflection (which speaks
grpc.reflection.v1alpha) discovers the services and the GetStock method from the server,
and grpcio-health-checking asks for health. usage: generic_client.py HOST:PORT
Prints 'services: a,b,...', 'inventory.Inventory methods: A,B,...', and
'health <service>: <STATUS>' for "" and inventory.Inventory."""
import sys

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


def main() -> int:
    with grpc.insecure_channel(sys.argv[1]) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        print("services: " + ",".join(sorted(database.get_services())), flush=True)
        pool = descriptor_pool.DescriptorPool(database)
        service = pool.FindServiceByName("inventory.Inventory")
        print("inventory.Inventory methods: " + ",".join(m.name for m in service.methods), flush=True)
        health = health_pb2_grpc.HealthStub(channel)
        for name in ["", "inventory.Inventory"]:
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            print(f"health {name or '(server)'}: {status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
