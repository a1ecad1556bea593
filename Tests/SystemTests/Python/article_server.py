"""The article's Python servicer (GetStock answers quantity 42), on 127.0.0.1 and a free
port. Prints 'article server listening on 127.0.0.1:<port>' once it serves; stops on SIGTERM."""
import signal
import sys
import threading
from concurrent import futures

import grpc
import inventory_pb2
import inventory_pb2_grpc


class InventoryServicer(inventory_pb2_grpc.InventoryServicer):
    def GetStock(self, request, context):
        return inventory_pb2.StockResponse(sku=request.sku, quantity=42)


def main() -> int:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    inventory_pb2_grpc.add_InventoryServicer_to_server(InventoryServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stopped = threading.Event()
    # A parent (such as the Swift test runner) may have spawned us with SIGTERM blocked.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"article server listening on 127.0.0.1:{port}", flush=True)
    # A timed wait, so the main thread gets to run the SIGTERM handler.
    while not stopped.wait(0.1):
        pass
    server.stop(grace=2).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
