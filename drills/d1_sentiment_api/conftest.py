"""Fixtures for the d1 checks: the factory under test, and the message of the documented JSON error.

``run``, for async checks, is the grading plugin's (``mlcourse.grading.plugin``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest


@pytest.fixture
def create_app(drill) -> Callable[..., Any]:
    """``create_app`` from the implementation under test (``app.py`` of the drill)."""
    return drill.module("app").create_app


def json_error_message(response: httpx.Response) -> str:
    """The message of an ``{"error": {"code", "message"}}`` body; "" when the body is anything else."""
    try:
        error = response.json()["error"]
        return str(error["message"]) if isinstance(error, dict) and "code" in error else ""
    except (ValueError, KeyError, TypeError):
        return ""


@pytest.fixture
def error_message() -> Callable[[httpx.Response], str]:
    """``error_message(response)``: the documented JSON error's message, or "" (a check then says what is wrong)."""
    return json_error_message
