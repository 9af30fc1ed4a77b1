"""The app served by uvicorn on a loopback port, inside the test's own event loop.

httpx's ASGITransport runs a request inline in the caller's task, so a handler that never
awaits I/O (``/health``) completes without giving the event loop a turn: it cannot show
the loop being held. Over a real socket it can: the request waits for the server's loop
like any client's would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import attrs
import httpx
import uvicorn
from fastapi import FastAPI


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` (its lifespan included) on 127.0.0.1; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises the server's start-up error
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@attrs.frozen
class Latencies:
    seconds: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def health_latencies_while(base_url: str, busy: Awaitable[object], *, floor: int = 5) -> Latencies:
    """``GET /health`` back to back until ``busy`` is done (at least ``floor`` times)."""
    work = asyncio.ensure_future(busy)
    seconds: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as probe:
        await probe.get("/health")  # a connection is open before timing starts
        while not work.done() or len(seconds) < floor:
            began = time.perf_counter()
            response = await probe.get("/health")
            seconds.append(time.perf_counter() - began)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.005)
    await work
    return Latencies(seconds)
