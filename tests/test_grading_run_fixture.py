"""The grading plugin's ``run`` fixture: only its own limit becomes its message; an exception out of the app is named."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse


def test_the_limit_says_how_long_the_check_ran(run):
    with pytest.raises(pytest.fail.Exception, match=r"within its 0.2 s limit \(stopped after 0\.[2-9] s\)"):
        run(asyncio.sleep(5), 0.2)


def test_a_checks_own_timeout_reaches_the_check(run):
    async def own_deadline() -> None:
        await asyncio.wait_for(asyncio.sleep(5), 0.1)

    with pytest.raises(TimeoutError):
        run(own_deadline(), 5)


def test_an_exception_out_of_the_app_is_named_as_such(run):
    app = FastAPI()

    @app.exception_handler(Exception)
    async def answer_500(request, error) -> JSONResponse:  # Starlette still re-raises after it
        return JSONResponse({"error": {"code": "internal", "message": "failed"}}, status_code=500)

    @app.get("/")
    async def broken() -> None:
        raise TypeError("a model error")

    async def call() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            await client.get("/")

    with pytest.raises(pytest.fail.Exception, match="an exception escaped the app: TypeError: a model error"):
        run(call())
