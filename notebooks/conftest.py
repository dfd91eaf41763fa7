"""Notebooks that run ``elixir`` say so in their metadata (``{"mlcourse": {"needs_elixir": true}}``):
where it is not on PATH their nbval items are skipped with the reason, not failed."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest

from mlcourse.port.elixir import SKIP_REASON


@functools.cache
def notebook_needs_elixir(path: Path) -> bool:
    if path.suffix != ".ipynb":
        return False
    return bool(json.loads(path.read_text()).get("metadata", {}).get("mlcourse", {}).get("needs_elixir"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("elixir") is not None:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if notebook_needs_elixir(item.path):
            item.add_marker(skip)
