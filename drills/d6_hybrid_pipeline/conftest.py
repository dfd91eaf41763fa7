"""Fixtures for the d6 checks: the misbehaving server they start, CSVs they write, the CLI they run.

The server (``mlcourse.pipeline.misbehaving``) runs on loopback in this process and keeps its
own record: requests in flight, connections, and when each request arrived and was answered.
The checks grade that record, never a number the code under test reports about itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mlcourse.pipeline.misbehaving import REFUSED_TEXT, MisbehavingServer, Policy


@pytest.fixture
def misbehaving() -> Callable[..., Any]:
    """``with misbehaving(p_429=0.1) as server:`` a fresh server with that policy."""

    @contextmanager
    def start(**policy: Any) -> Iterator[MisbehavingServer]:
        with MisbehavingServer(Policy(**policy)) as server:
            yield server

    return start


@pytest.fixture
def sentiment_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write ``rows`` rows (ids ``row-0``...) with the always-refused text at ``refused_at`` (if any)."""

    def write(
        rows: int,
        *,
        refused_at: int | None = None,
        name: str = "input.csv",
        id_column: str = "id",
        text_column: str = "text",
    ) -> Path:
        texts = [f"I love the {i}th item" if i % 3 else f"the {i}th item was dull" for i in range(rows)]
        if refused_at is not None:
            texts[refused_at] = REFUSED_TEXT
        path = tmp_path / name
        pl.DataFrame({id_column: [f"row-{i}" for i in range(rows)], text_column: texts}).write_csv(path)
        return path

    return write


@pytest.fixture
def pipeline_command(drill) -> Callable[..., list[str]]:
    def command(input_path: Path, url: str, out: Path, *options: str) -> list[str]:
        return [sys.executable, "-m", drill.package, str(input_path), "--url", url, "--out", str(out), *options]

    return command


ENDING_S = 8.0  # once every row is in --out and nothing more is written, the command must have ended by then


def stop(child: subprocess.Popen) -> None:
    """Ctrl-C to the child's process group, then SIGKILL if it is still there."""
    try:
        os.killpg(child.pid, signal.SIGINT)
        child.wait(5)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def lines_in(path: Path) -> tuple[int, int]:
    """(data rows, bytes) of the output file so far: (0, 0) while it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0, 0
    return max(0, data.count(b"\n") - 1), len(data)


@pytest.fixture(scope="session")
def run_to_end() -> Callable[..., subprocess.CompletedProcess]:
    """``run_to_end(command, env, out, rows, limit_s)``: the command's result, or a failed check that says why not.

    A pipeline that never ends is told apart from a slow one: once ``out`` holds ``rows`` rows and stops
    growing, the command has ``ENDING_S`` to exit; past that the check fails in seconds, not at ``limit_s``.
    """

    def run(command: list[str], env: dict[str, str], out: Path, rows: int, limit_s: float):
        with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
            child = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr, text=True, start_new_session=True)
            give_up, last_size, still_since = time.monotonic() + limit_s, -1, time.monotonic()
            try:
                while child.poll() is None:
                    now = time.monotonic()
                    written, size = lines_in(out)
                    if size != last_size:
                        last_size, still_since = size, now
                    elif written >= rows and now - still_since > ENDING_S:
                        pytest.fail(
                            f"the pipeline did not end after its input ended: all {rows} rows are in --out and the "
                            f"command was still running {ENDING_S:.0f} s later. After the last row, put one end marker "
                            "per scorer on the rows queue and let the writer stop once it has counted them all; run "
                            "the stages in an asyncio.TaskGroup (notebook 08, section 5)"
                        )
                    if now > give_up:
                        pytest.fail(
                            f"the pipeline did not finish within {limit_s:.0f} s ({written} of {rows} rows in --out): "
                            "score --concurrency rows at once, and give up on a text at its --deadline"
                        )
                    time.sleep(0.05)
            finally:
                if child.poll() is None:
                    stop(child)
            stdout.seek(0)
            stderr.seek(0)
            return subprocess.CompletedProcess(command, child.returncode, stdout.read(), stderr.read())

    return run


@pytest.fixture
def run_pipeline(drill, pipeline_command, run_to_end) -> Callable[..., subprocess.CompletedProcess]:
    """Run the CLI in its own process (bounded in time, failed in seconds if it never ends); return what it did."""

    def run_cli(input_path: Path, url: str, out: Path, *options: str, limit_s: float = 60.0):
        rows = pl.scan_csv(input_path).select(pl.len()).collect().item()
        return run_to_end(pipeline_command(input_path, url, out, *options), drill.env(), out, rows, limit_s)

    return run_cli
