"""Fixtures for the d6 checks: the misbehaving server they start, CSVs they write, the CLI they run.

The server (``mlcourse.pipeline.misbehaving``) runs on loopback in this process and keeps its
own record: requests in flight, connections, and when each request arrived and was answered.
The checks grade that record, never a number the code under test reports about itself.
"""

from __future__ import annotations

import subprocess
import sys
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


@pytest.fixture
def run_pipeline(drill, pipeline_command) -> Callable[..., subprocess.CompletedProcess]:
    """Run the CLI in its own process (bounded in time) and return what it did."""

    def run_cli(input_path: Path, url: str, out: Path, *options: str, limit_s: float = 60.0):
        try:
            return subprocess.run(
                pipeline_command(input_path, url, out, *options),
                env=drill.env(),
                capture_output=True,
                text=True,
                timeout=limit_s,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the pipeline did not finish within {limit_s:.0f} s")

    return run_cli
