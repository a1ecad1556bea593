"""Reads Switchyard's order.placed events from JetStream as a Python team would, with nats-py
and nothing of Switchyard's: an ordered consumer (ephemeral, no state left on the server) on
stream SWITCHYARD_ORDER, subjects order.placed.> (every partition), from the first message.

usage: nats_order_placed_reader.py NATS_URL EXPECTED_COUNT TIMEOUT_SECONDS

Prints one JSON object per message, in stream order:
  {"subject": ..., "body": <the body as text, unparsed>, "ce-type": ..., "ce-id": ...,
   "content-type": ...}
The body is passed through as text so the caller checks its exact field set itself. Exits 0
once EXPECTED_COUNT messages are read, 1 if the timeout passes first (what was read is
printed all the same)."""
import asyncio
import json
import sys

import nats
from nats.js.api import DeliverPolicy


async def read(url: str, expected: int, timeout: float) -> int:
    connection = await nats.connect(url, connect_timeout=10)
    try:
        js = connection.jetstream()
        subscription = await js.subscribe(
            "order.placed.>", stream="SWITCHYARD_ORDER", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        count = 0
        deadline = asyncio.get_running_loop().time() + timeout
        while count < expected:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                print(f"timed out after {count} of {expected} messages", file=sys.stderr, flush=True)
                return 1
            try:
                message = await subscription.next_msg(timeout=remaining)
            except nats.errors.TimeoutError:
                continue
            headers = message.headers or {}
            line = {
                "subject": message.subject,
                "body": message.data.decode("utf-8"),
                "ce-type": headers.get("ce-type"),
                "ce-id": headers.get("ce-id"),
                "content-type": headers.get("content-type"),
            }
            print(json.dumps(line), flush=True)
            count += 1
        await subscription.unsubscribe()
        return 0
    finally:
        await connection.close()


def main() -> int:
    url, expected, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    return asyncio.run(read(url, expected, timeout))


if __name__ == "__main__":
    sys.exit(main())
