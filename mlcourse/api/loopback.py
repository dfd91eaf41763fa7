"""Serve an ASGI app under uvicorn on a free loopback port, inside the current event loop.

:class:`InProcessApp` skips the HTTP server; some behaviour only exists with one: a client that
disconnects (uvicorn does not cancel the handler, it sends ``http.disconnect``), a body that
arrives slowly, the order of a graceful shutdown. Checks and the chaos run use this to test
exactly that, with raw sockets where httpx would be too polite.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


class DrainFirstServer(uvicorn.Server):
    """uvicorn waits for open connections before it runs the app's shutdown, so one client sending
    its body slowly would hold the exit for as long as it likes. This server stops listening, then
    runs the app's shutdown first (drain what waits, refuse what is still arriving), then closes
    the connections: Ctrl-C takes the app's drain time, not the slowest client's."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        if not self.force_exit:
            await self.lifespan.shutdown()
        self.lifespan = _AlreadyShutDown()
        await super().shutdown(sockets)


class _AlreadyShutDown:
    async def shutdown(self) -> None:
        """The app's shutdown already ran."""


@asynccontextmanager
async def serve_on_loopback(app: Any, *, start_timeout_s: float = 10.0, **config: Any) -> AsyncIterator[str]:
    """``async with serve_on_loopback(app) as base_url:`` the app under uvicorn on 127.0.0.1, a free port."""
    options = {"log_level": "warning", "access_log": False, "timeout_graceful_shutdown": 1, **config}
    server = DrainFirstServer(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", **options))
    serving = asyncio.create_task(server.serve(), name="uvicorn-loopback")
    try:
        async with asyncio.timeout(start_timeout_s):
            while not server.started:
                if serving.done():
                    raise RuntimeError(f"uvicorn did not start: {serving.exception()!r}")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait({serving}, timeout=start_timeout_s)
        if not serving.done():
            serving.cancel()
