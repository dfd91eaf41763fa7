"""InProcessApp runs a FastAPI lifespan in the current loop and shuts it down on request."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI, Request

from mlcourse.api.inprocess import InProcessApp, LifespanError, wait_until_ready


def make_app(events: list[str], fail: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app):
        if fail:
            raise RuntimeError("no model here")
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz(request: Request):
        return {"greeting": request.state.greeting}

    return app


def test_lifespan_runs_around_the_requests():
    events: list[str] = []

    async def scenario():
        session = InProcessApp(make_app(events))
        async with session as client:
            await wait_until_ready(client)
            assert events == ["startup"]
            assert (await client.get("/healthz")).json() == {"greeting": "hello"}  # lifespan state reaches requests
            assert session.startup_s is not None and session.startup_s < 1
        assert events == ["startup", "shutdown"]

    asyncio.run(scenario())


def test_a_failing_startup_is_reported():
    async def scenario():
        async with InProcessApp(make_app([], fail=True)):
            pass

    with pytest.raises(LifespanError, match="no model here"):
        asyncio.run(scenario())
