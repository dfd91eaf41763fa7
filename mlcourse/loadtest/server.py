"""Process control for load tests: the d1 API under uvicorn in a child process, on a free loopback port.

The load test must not share an interpreter with the server it measures (one GIL, one event loop),
so the server runs as ``python -m mlcourse.api.serve`` in its own process; this module starts it,
waits until ``/healthz`` says ready, and stops it as a person would, with Ctrl-C.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mlcourse.api.serve import DRILL
from mlcourse.impl import load_drill, reference_impl
from mlcourse.paths import BUILD_DIR, REPO_ROOT

OUT_DIR = BUILD_DIR / "loadtest"


class ServerError(RuntimeError):
    """The API did not start, or stopped, in its child process."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(impl: str | None = None, *, model: str | None = None, fake: bool = False,
           ready_timeout_s: float = 180.0, log_path: Path | None = None, **knobs: object) -> Iterator[str]:
    """Run ``python -m mlcourse.api.serve`` in a child process; yield its base URL once /healthz says 200.

    ``impl`` is whose d1 app serves: by default the reference, or the learner's own in their bundle.

    ``knobs`` are the server's other options by their Python names, e.g. ``batching="none"``,
    ``queue_limit=20``, ``fake_cost="20,5"``; ``None`` leaves one at its default.
    """
    impl = impl or reference_impl()
    port = free_port()
    command = [sys.executable, "-m", "mlcourse.api.serve", "--impl", impl, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    command += ["--fake"] if fake else ["--model", model] if model else []
    command += [part for name, value in knobs.items() if value is not None
                for part in (f"--{name.replace('_', '-')}", str(value))]
    env = load_drill(impl, DRILL).env()
    with start_child(command, port, log_path or OUT_DIR / "server.log", ready_timeout_s, env) as base_url:
        yield base_url


@contextmanager
def start_child(command: list[str], port: int, log_path: Path, ready_timeout_s: float,
                env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``command`` (a server on loopback ``port``), its output to ``log_path``; yield its URL once ready."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, child, ready_timeout_s, log_path)
        yield base_url
    finally:
        stop(child)


def wait_ready(base_url: str, child: subprocess.Popen, timeout_s: float, log_path: Path) -> None:
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


def stop(child: subprocess.Popen) -> None:
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


