"""The Python side of the course's Elixir code (``elixir/``): find ``elixir``, hand it data, run its scripts.

Elixir is optional: without it on PATH the tests and notebook 12 that need it are skipped with
:data:`SKIP_REASON`. Data crosses as the External Term Format (``erlang-py``), the format the
worker speaks too, so Elixir reads a fixture with ``File.read!() |> :erlang.binary_to_term()``.
Scripts run with ``+Bd`` (no break menu), so a SIGINT to their process group ends the VM, as
Ctrl-C would, and each Python worker then sees its fd 3 close and exits.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import erlang

from mlcourse.paths import REPO_ROOT
from mlcourse.port.etf_worker import string

ELIXIR_DIR = REPO_ROOT / "elixir"
SKIP_REASON = "elixir is not on PATH (apt-get install elixir)"
EXUNIT_SUMMARY = re.compile(r"^\d+ tests?, \d+ failures?.*$", re.MULTILINE)


def elixir() -> str | None:
    """The ``elixir`` executable, or None where it is not installed."""
    return shutil.which("elixir")


def to_term(value: Any) -> Any:
    """A plain Python value as Elixir reads it naturally: ``str`` as a string (a binary), not a charlist."""
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Mapping):
        return {to_term(key): to_term(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_term(item) for item in value]
    if isinstance(value, tuple):
        return tuple(to_term(item) for item in value)
    return value


def write_terms(path: Path, value: Any) -> Path:
    """``value`` as one ETF term in ``path``: the fixture an Elixir test reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(erlang.term_to_binary(to_term(value)))
    return path


def port_env(model_path: Path, **extra: str | Path) -> dict[str, str]:
    """What ``PyPort.config_from_env/0`` reads: this interpreter, the model, the repository root."""
    env = {**os.environ, "PYPORT_PYTHON": sys.executable, "PYPORT_MODEL": str(model_path), "PYPORT_CWD": str(REPO_ROOT)}
    return env | {name: str(value) for name, value in extra.items()}


@dataclass(frozen=True)
class ElixirRun:
    returncode: int
    output: str  # stdout and stderr together, as a person would see them

    @property
    def exunit_summary(self) -> str:
        """ExUnit's last ``N tests, M failures`` line (without the timing above it), or ``""``."""
        found = EXUNIT_SUMMARY.findall(self.output)
        return found[-1] if found else ""


def run_script(
    script: str, args: Sequence[str] = (), env: Mapping[str, str] | None = None, timeout_s: float = 120.0
) -> ElixirRun:
    """``elixir elixir/SCRIPT ARGS`` from the repository root; on timeout, SIGINT to its group, then SIGKILL."""
    executable = elixir()
    if executable is None:
        raise FileNotFoundError(SKIP_REASON)
    child = subprocess.Popen(
        [executable, "--erl", "+Bd", str(ELIXIR_DIR / script), *args],
        cwd=REPO_ROOT,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGINT)
        try:
            output, _ = child.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            output, _ = child.communicate()
        output += f"\n(stopped after {timeout_s:.0f} s)"
    return ElixirRun(child.returncode, output)


def run_suites(suites: Sequence[str], env: Mapping[str, str] | None = None, timeout_s: float = 120.0) -> ElixirRun:
    """The ExUnit suites ``elixir/test/SUITE_test.exs`` (``mini_json``, ``py_port``, ``sentiment_client``)."""
    return run_script("run_tests.exs", suites, env, timeout_s)


def etf_bench(model_path: Path, features: Sequence[float], requests: int = 2000, kills: int = 5) -> dict[str, Any]:
    """``elixir/bench.exs``: round trips/s through PyPort at 1, 8 and 64 in flight; kill -9 to next answer (ms)."""
    run = run_script("bench.exs", [str(requests), str(kills), *map(str, features)], port_env(model_path))
    if run.returncode != 0:
        raise RuntimeError(f"elixir/bench.exs failed:\n{run.output}")
    result: dict[str, Any] = json.loads(run.output.strip().splitlines()[-1])
    return result
