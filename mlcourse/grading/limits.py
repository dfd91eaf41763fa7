"""Run an untrusted command under a wall-clock and a resident-memory limit, and leave nothing behind.

The memory limit watches the resident set (RSS) of every process the command started, rather
than setting RLIMIT_AS: JAX and PyTorch reserve tens of GiB of address space they never touch,
so an address-space limit kills honest code long before it uses real memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

GIB = 1024**3
POLL_S = 0.2


@dataclass(frozen=True)
class Limits:
    """What one learner may use: wall clock for all its drills, time per check, resident memory."""

    learner_s: float = 600.0
    check_s: float = 120.0
    memory_bytes: int = 4 * GIB


@dataclass(frozen=True)
class Outcome:
    """How a limited run ended: its exit status, and why it was killed (empty if it was not)."""

    returncode: int
    killed_for: str  # "", "time limit" or "memory limit"
    seconds: float
    peak_rss_bytes: int


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def _kill_all(pgid: int, seen: dict[int, psutil.Process]) -> None:
    """SIGKILL the process group, then every process ever seen in the tree that still lives."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    for process in seen.values():
        with contextlib.suppress(psutil.Error):
            process.kill()  # psutil checks the pid was not reused (create time) before killing
    psutil.wait_procs(list(seen.values()), timeout=5)


def run_limited(
    command: list[str], *, cwd: Path, env: dict[str, str], log: Path, wall_s: float, memory_bytes: int
) -> Outcome:
    """Run ``command`` in its own session with no stdin, output to ``log``; kill it all when over a limit."""
    start = time.monotonic()
    killed_for, peak = "", 0
    with log.open("ab") as out:
        child = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    root = psutil.Process(child.pid)
    seen: dict[int, psutil.Process] = {child.pid: root}
    try:
        while child.poll() is None:
            tree = _tree(root)
            seen.update((p.pid, p) for p in tree)
            peak = max(peak, _rss(tree))
            if peak > memory_bytes:
                killed_for = "memory limit"
            elif time.monotonic() - start > wall_s:
                killed_for = "time limit"
            if killed_for:
                break
            time.sleep(POLL_S)
        seen.update((p.pid, p) for p in _tree(root))
    finally:
        _kill_all(child.pid, seen)  # its session id is its pid, and so is its group's
        child.wait()
    return Outcome(child.returncode, killed_for, time.monotonic() - start, peak)
