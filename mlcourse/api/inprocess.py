"""Run an ASGI app inside the current event loop, lifespan included, and talk to it with httpx.

``httpx.ASGITransport`` sends requests but never runs the app's lifespan (where a FastAPI app
starts its model load and its batcher). :class:`InProcessApp` drives the ASGI lifespan
protocol as a server would, so a notebook or a check can start the app, call it concurrently,
and shut it down while requests are still waiting: no port, no child process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class LifespanError(RuntimeError):
    """The app's start-up or shutdown failed, or did not finish in time."""


class InProcessApp:
    """``async with InProcessApp(app) as client:`` starts the lifespan and yields an httpx client.

    ``startup_s`` says how long the start-up took: an app that loads its model on the
    start-up path makes it long. ``shutdown()`` may be awaited while requests are in flight.
    """

    def __init__(self, app: ASGIApp, *, timeout_s: float = 30.0, base_url: str = "http://testserver") -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.startup_s: float | None = None
        self._state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self._with_state), base_url=base_url)

    async def _with_state(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        """Give each request a copy of the lifespan state, as uvicorn does."""
        await self.app({**scope, "state": dict(self._state)}, receive, send)

    async def _exchange(self, message: str, expect: str) -> None:
        assert self._task is not None
        await self._to_app.put({"type": message})
        reply = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait({reply, self._task}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if reply not in done:
            reply.cancel()
            if self._task in done and self._task.exception() is not None:
                raise LifespanError(f"{message} failed: {self._task.exception()!r}") from self._task.exception()
            raise LifespanError(f"{message} did not finish within {self.timeout_s:.0f} s")
        if reply.result()["type"] != expect:
            raise LifespanError(f"{message} failed: {reply.result().get('message', '')}")

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self._state}

        async def run_app() -> None:  # create_task takes a coroutine; an ASGI app returns any awaitable
            await self.app(scope, self._to_app.get, self._from_app.put)

        self._task = asyncio.create_task(run_app())
        self._task.add_done_callback(lambda task: task.cancelled() or task.exception())  # reported via _exchange
        started = time.perf_counter()
        await self._exchange("lifespan.startup", "lifespan.startup.complete")
        self.startup_s = time.perf_counter() - started

    async def shutdown(self) -> None:
        """Run the app's shutdown (once); requests already in flight keep their connection."""
        if self._stopped or self._task is None:
            return
        self._stopped = True
        await self._exchange("lifespan.shutdown", "lifespan.shutdown.complete")

    async def __aenter__(self) -> httpx.AsyncClient:
        try:
            await self.startup()
        except BaseException:
            await self.client.aclose()
            raise
        return self.client

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.shutdown()
        finally:
            await self.client.aclose()
            if self._task is not None and not self._task.done():
                self._task.cancel()


async def wait_until_ready(client: httpx.AsyncClient, path: str = "/healthz", timeout_s: float = 5.0) -> None:
    """Poll ``path`` until it answers 200; raise TimeoutError after ``timeout_s``."""
    deadline = time.perf_counter() + timeout_s
    while (await client.get(path)).status_code != 200:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{path} did not answer 200 within {timeout_s:.0f} s")
        await asyncio.sleep(0.02)
