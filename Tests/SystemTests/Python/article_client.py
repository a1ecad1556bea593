"""Calls GetStock the way the article's Python client would, with stubs generated from
proto/inventory.proto. usage: article_client.py HOST:PORT SKU [SKU ...]
Prints one line per SKU: 'OK sku=<sku> quantity=<n>' or 'ERR <STATUS_CODE> <details>'."""
import sys

import grpc
import inventory_pb2
import inventory_pb2_grpc


def main() -> int:
    target, skus = sys.argv[1], sys.argv[2:]
    with grpc.insecure_channel(target) as channel:
        stub = inventory_pb2_grpc.InventoryStub(channel)
        for sku in skus:
            try:
                reply = stub.GetStock(inventory_pb2.StockRequest(sku=sku), timeout=10)
                print(f"OK sku={reply.sku} quantity={reply.quantity}", flush=True)
            except grpc.RpcError as error:
                print(f"ERR {error.code().name} {error.details()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
