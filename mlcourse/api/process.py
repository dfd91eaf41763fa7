"""The d1 API under uvicorn in a child process, on a free loopback port: what every tool and check runs.

A load test must not share an interpreter with the server it measures (one GIL, one event loop),
so the server runs as ``python -m mlcourse.api.serve`` in its own process. :func:`served` starts
it, waits until ``/healthz`` says ready, hands back a :class:`ServedProcess` (URL, pid, log) and
stops it as a person would, with Ctrl-C. :func:`start_child` does the same for any other server.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mlcourse.api.contract import DRILL
from mlcourse.api.models import FakeCost
from mlcourse.impl import load_drill
from mlcourse.paths import BUILD_DIR, REPO_ROOT


class ServerError(RuntimeError):
    """The API did not start, or stopped, in its child process."""


@dataclass(frozen=True)
class ServedProcess:
    """A server running in a child process: where to reach it, which process it is, where it logs."""

    url: str
    pid: int
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(
    impl: str,
    *,
    model: str | None = None,
    fake: FakeCost | None = None,
    ready_timeout_s: float = 180.0,
    log_path: Path | None = None,
    **knobs: object,
) -> Iterator[ServedProcess]:
    """Run implementation ``impl``'s d1 app (``drills``, ``solutions`` or a folder) until the block ends.

    ``model`` is a model folder (default: the built offline model); ``fake`` serves the fake model at
    that cost instead. ``knobs`` are the server's other options by their Python names, e.g.
    ``batching="none"``, ``queue_limit=20``; ``None`` leaves one at its default.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mlcourse.api.serve",
        "--impl",
        impl,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    command += ["--fake-cost", fake.flag] if fake else ["--model", model] if model else []
    command += [
        part
        for name, value in knobs.items()
        if value is not None
        for part in (f"--{name.replace('_', '-')}", str(value))
    ]
    env = load_drill(impl, DRILL).env()
    with start_child(command, port, log_path or BUILD_DIR / "loadtest" / "server.log", ready_timeout_s, env) as child:
        yield child


@contextmanager
def start_child(
    command: list[str], port: int, log_path: Path, ready_timeout_s: float, env: dict[str, str] | None = None
) -> Iterator[ServedProcess]:
    """Run ``command`` (a server on loopback ``port``), its output to ``log_path``, until the block ends."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    served_process = ServedProcess(f"http://127.0.0.1:{port}", child.pid, log_path)
    try:
        wait_ready(served_process.url, child, ready_timeout_s, log_path)
        yield served_process
    finally:
        stop(child)


def wait_ready(base_url: str, child: subprocess.Popen[bytes], timeout_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise ServerError(f"the server exited with code {child.returncode}:\n{tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ServerError(f"/healthz did not answer 200 within {timeout_s:.0f} s:\n{tail(log_path)}")


def stop(child: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a person would (uvicorn then runs the app's shutdown); kill if it hangs."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
