"""Fixtures for the d1 checks: the factory under test (``run``, for async checks, is the root conftest's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def create_app(drill) -> Callable[..., Any]:
    """``create_app`` from the implementation under test (``app.py`` of the drill)."""
    return drill.module("app").create_app
