"""Fixtures for the d4 checks (no checks here): the model, PortServers on real or stand-in workers,
process probes, and a bounded way to run an asyncio scenario.

Misbehaving workers are stand-ins: ``python -m mlcourse.port.stand_in_worker``, given to PortServer
as its ``command``. It records each start, misbehaves on its first start, then runs the real worker.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from mlcourse.port import errors as port_errors
from mlcourse.port.penguin_model import build, load_model


def process_is_running(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def is_running() -> Callable[[int | None], bool]:
    """``is_running(pid)``: the process exists and is not a zombie."""
    return process_is_running


@pytest.fixture
def gone_within() -> Callable[[int, float], Coroutine[Any, Any, bool]]:
    """``await gone_within(pid, seconds)``: True once the process has ended, False if it still runs then."""

    async def wait_gone(pid: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while process_is_running(pid):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    return wait_gone


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("d4-model") / "penguins-logreg.json")


@pytest.fixture(scope="module")
def model(model_path: Path):
    return load_model(model_path)


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Whatever a check started (workers, stand-ins, parents) does not outlive it."""
    yield
    children = psutil.Process().children(recursive=True)
    for child in children:
        child.kill()
    psutil.wait_procs(children, timeout=5)


@pytest.fixture
def server_for(drill, model_path: Path, tmp_path: Path) -> Callable[..., Any]:
    """``server_for(mode=None, **options)``: a PortServer on the real worker, or on a stand-in in ``mode``.

    Use it as ``async with server_for(...) as server:``: started, and stopped whatever the check does.
    """
    supervisor = drill.module("supervisor")

    def make(mode: str | None = None, **options: Any) -> Any:
        if mode is not None:
            starts_file = str(tmp_path / "starts")
            options["command"] = [
                sys.executable,
                "-m",
                "mlcourse.port.stand_in_worker",
                mode,
                starts_file,
                drill.package,
                str(model_path),
            ]
        return supervisor.PortServer(model_path, env=drill.env(), **options)

    return make


@pytest.fixture
def starts(tmp_path: Path) -> Callable[[], list[int]]:
    """``starts()``: process ids of the stand-in workers started so far, in order."""
    file = tmp_path / "starts"
    return lambda: [int(line) for line in file.read_text().split()] if file.exists() else []


@pytest.fixture
def errors():
    """The error classes a caller can be told (``mlcourse.port.errors``)."""
    return port_errors
