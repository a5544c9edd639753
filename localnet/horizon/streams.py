"""Server-Sent Events for collection endpoints, woken right after each ledger close.

A stream never polls: it waits on the hub's future, which the closer resolves as soon as a ledger is
applied, so records reach clients within one event-loop turn of the close.
"""

import asyncio
import json
from collections.abc import Callable

from aiohttp import web

HELLO = b'retry: 1000\nevent: open\ndata: "hello"\n\n'
KEEPALIVE = b": keepalive\n\n"
# requests-sse (stellar-sdk's client) gives up on a silent stream after 60 s; a comment keeps it open.
KEEPALIVE_SECONDS = 15.0


class StreamHub:
    """What open streams wait on: the next ledger close, or a fault that drops them all."""

    def __init__(self):
        self._wake: asyncio.Future | None = None
        self.drop_generation = 0
        self.open_streams = 0

    def next_wake(self) -> asyncio.Future:
        if self._wake is None or self._wake.done():
            self._wake = asyncio.get_running_loop().create_future()
        return self._wake

    def notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def drop_all(self) -> None:
        self.drop_generation += 1
        self.notify()


def wants_stream(request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


async def serve(
    request,
    hub: StreamHub,
    fetch: Callable[[object, int], list[dict]],
    render: Callable[[dict], dict],
    cursor,
    limit: int,
    to_cursor: Callable[[str], object],
) -> web.StreamResponse:
    """Sends records after `cursor` in ascending order, then each new batch as ledgers close, until dropped."""
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
        }
    )
    await resp.prepare(request)
    generation = hub.drop_generation
    hub.open_streams += 1
    try:
        await resp.write(HELLO)
        while generation == hub.drop_generation:
            # Take the wake future before reading, so a close during the write below is not missed.
            wake = hub.next_wake()
            records = fetch(cursor, limit)
            if records:
                frames = "".join(
                    f"id: {r['paging_token']}\ndata: {json.dumps(render(r), separators=(',', ':'))}\n\n"
                    for r in records
                )
                await resp.write(frames.encode())
                cursor = to_cursor(records[-1]["paging_token"])
                if len(records) == limit:
                    continue
            done, _ = await asyncio.wait({wake}, timeout=KEEPALIVE_SECONDS)
            if not done:
                await resp.write(KEEPALIVE)
    except ConnectionError:
        return resp  # the client went away
    finally:
        hub.open_streams -= 1
    resp.force_close()
    return resp
