"""Fixtures for the d1 checks: the factory under test, and a bounded way to run async checks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest


@pytest.fixture
def create_app(drill) -> Callable[..., Any]:
    """``create_app`` from the implementation under test (``app.py`` of the drill)."""
    return drill.module("app").create_app


@pytest.fixture
def run() -> Callable[[Awaitable[Any], float], Any]:
    """Run a coroutine to completion in a fresh event loop, failing (not hanging) after ``limit_s``."""

    def run_bounded(coroutine: Awaitable[Any], limit_s: float = 30.0) -> Any:
        async def bounded() -> Any:
            try:
                return await asyncio.wait_for(coroutine, limit_s)
            except TimeoutError:
                pytest.fail(f"the check did not finish within {limit_s:.0f} s: a request or the shutdown hangs")

        return asyncio.run(bounded())

    return run_bounded
