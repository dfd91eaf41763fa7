"""The README's multi-node recipe ("Beyond one machine"), followed on one machine with authentication on.

A head started with ``ray start --head`` (on loopback, in a temporary home and temp dir of its
own, so that nothing of another cluster on this machine is touched), its token made with
``ray get-auth-token --generate`` as the README says, then ``RAY_ADDRESS=... make serve-ray``: with
the token the application answers and Ctrl-C removes only it, the head staying up until this test
stops it; without the token the command stops within seconds, naming the token.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from mlcourse.api.process import free_port
from mlcourse.paths import REPO_ROOT

pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(420)]

RAY = str(Path(sys.executable).with_name("ray"))
JOIN_WAIT_S = 3  # what the join waits for Ray here (MLCOURSE_RAY_JOIN_TIMEOUT_S; a driver waits 20 s)
JOIN_FAILS_WITHIN_S = 40.0  # make's set-up, Python's start, then the join's wait


@dataclass(frozen=True)
class Head:
    address: str
    home: Path  # holds .ray/auth_token, as the README's step 1 leaves it
    temp_dir: Path

    def env(self, home: Path | None = None, **extra: str) -> dict[str, str]:
        """A driver's environment on this machine: ``home`` with or without the token, ``RAY_ADDRESS`` set."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
        return {**env, "HOME": str(home or self.home), "RAY_ADDRESS": self.address, **extra}

    def processes(self) -> list[psutil.Process]:
        """The head's own processes: those whose command lines name its temp dir, and their children."""
        mine = str(self.temp_dir)
        found: dict[int, psutil.Process] = {}
        for process in psutil.process_iter(["cmdline"]):
            if any(mine in part for part in process.info["cmdline"] or []):
                with suppress(psutil.Error):
                    found |= {p.pid: p for p in [process, *process.children(recursive=True)]}
        return list(found.values())


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Head]:
    home, temp_dir = tmp_path_factory.mktemp("home"), Path("/tmp") / f"ray-recipe-{os.getpid()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
    env |= {"HOME": str(home), "RAY_AUTH_MODE": "token", "PYTHONPATH": str(REPO_ROOT / "config" / "ray_env")}
    subprocess.run([RAY, "get-auth-token", "--generate"], env=env, check=True, capture_output=True, timeout=60)
    assert (home / ".ray" / "auth_token").is_file(), "ray get-auth-token --generate wrote no ~/.ray/auth_token"
    port = free_port()
    started = subprocess.run(
        [
            RAY,
            "start",
            "--head",
            "--node-ip-address",
            "127.0.0.1",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--temp-dir",
            str(temp_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    result = Head(f"127.0.0.1:{port}", home, temp_dir)
    try:
        assert started.returncode == 0, f"ray start --head failed:\n{started.stdout[-2000:]}{started.stderr[-2000:]}"
        yield result
    finally:
        processes = result.processes()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(processes, timeout=5)  # Ray's agents linger; nothing of theirs is kept
        for process in alive:
            process.kill()


def test_without_the_token_make_serve_ray_stops_within_seconds_naming_it(head: Head, tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        ["make", "serve-ray", "FAKE_COST=5,1", f"PORT={free_port()}"],
        cwd=REPO_ROOT,
        env=head.env(home=tmp_path, MLCOURSE_RAY_JOIN_TIMEOUT_S=str(JOIN_WAIT_S)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    seconds = time.monotonic() - started
    assert done.returncode != 0, f"make serve-ray joined a token cluster without the token:\n{done.stdout[-2000:]}"
    assert "token" in done.stderr and "~/.ray/auth_token" in done.stderr, done.stderr[-3000:]
    assert seconds < JOIN_FAILS_WITHIN_S, f"the command took {seconds:.0f} s to say the token is missing"


def test_the_recipe_serves_and_ctrl_c_removes_only_the_application(head: Head, job: Any) -> None:
    port = free_port()
    running = job(["make", "serve-ray", "FAKE_COST=5,1", f"PORT={port}"], head.env(RAY_AUTH_MODE="token"))
    running.wait_for("Ctrl-C stops", timeout_s=300)
    answer = httpx.post(f"http://127.0.0.1:{port}/api/sentiment", json={"text": "I love this course"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["label"] == "positive", answer.text
    running.ctrl_c()
    assert "removed, the cluster left up" in running.output()
    names = {process.name() for process in head.processes() if process.is_running()}
    assert {"gcs_server", "raylet"} <= names, f"Ctrl-C of the driver took the cluster down: {names}"
    gone = httpx.post(f"http://127.0.0.1:{port}/api/sentiment", json={"text": "still there?"}, timeout=30)
    assert gone.status_code == 404, f"the application still answers after Ctrl-C: {gone.status_code}"
