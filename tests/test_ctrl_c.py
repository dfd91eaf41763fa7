"""Every long-running command stops on Ctrl-C, as a person stops it, and leaves no process behind.

A terminal's Ctrl-C is a SIGINT to its foreground process group: ``make``, the command it runs, and
everything those start in the same group. Each check starts the README's command as written, the
way a shell starts a foreground job (its own process group, SIGINT at its default), waits until the
command says it is working, sends that SIGINT to the group, and then waits for every process the
command started, in any group or session, to end. Seconds from SIGINT to the last process gone are
written to ``build/ctrl_c/seconds.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from mlcourse.api.process import free_port
from mlcourse.paths import BUILD_DIR, REPO_ROOT

pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(420)]

STOP_WITHIN_S = 15.0  # "within a few seconds", with room for a loaded 2-core machine
SECONDS: dict[str, float] = {}


@contextmanager
def foreground() -> Iterator[None]:
    """What a shell does for a foreground job: the child's SIGINT at its default, even where this process
    ignores it (started in the background). A handled signal is reset to default at exec; an ignored one is not."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class TerminalJob:
    """A command run as a terminal runs it, its output in a log, and every process it starts tracked."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log, foreground():
            self.leader = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                           env=env, start_new_session=True)
        self.family: dict[int, psutil.Process] = {self.leader.pid: psutil.Process(self.leader.pid)}

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def track(self) -> None:
        """Remember every descendant seen so far: a process re-parented later is still ours."""
        try:
            for child in self.family[self.leader.pid].children(recursive=True):
                self.family.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            self.track()
            if self.leader.poll() is not None:
                pytest.fail(f"the command ended (exit {self.leader.returncode}) before saying {text!r}:\n"
                            f"{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the command did not say {text!r} within {timeout_s:.0f} s:\n{self.output()[-3000:]}")
            time.sleep(0.3)
        self.track()

    def alive(self) -> list[psutil.Process]:
        self.leader.poll()  # reap the leader, so it does not linger as a zombie
        return [p for p in self.family.values() if is_running(p)]

    def ctrl_c(self, within_s: float = STOP_WITHIN_S) -> float:
        """SIGINT to the job's process group; seconds until every process it started is gone."""
        self.track()
        sent = time.monotonic()
        os.killpg(self.leader.pid, signal.SIGINT)
        while (left := self.alive()) and time.monotonic() - sent < within_s:
            time.sleep(0.1)
        seconds = time.monotonic() - sent
        assert not left, (f"{seconds:.0f} s after Ctrl-C these still run: "
                          f"{[describe(p) for p in left]}\n{self.output()[-3000:]}")
        return seconds

    def kill(self) -> None:
        """Whatever a failed check left running."""
        for process in self.alive():
            process.kill()
        psutil.wait_procs(list(self.family.values()), timeout=10)


def is_running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:100]}"
    except psutil.Error:
        return str(process.pid)


@pytest.fixture(scope="module", autouse=True)
def seconds_report() -> Iterator[None]:
    yield
    out = BUILD_DIR / "ctrl_c" / "seconds.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(SECONDS, indent=2) + "\n")


@pytest.fixture
def job(tmp_path: Path) -> Iterator[Callable[..., TerminalJob]]:
    """``job(command, env=None)``: a :class:`TerminalJob`, killed at the end if the check left it running."""
    started: list[TerminalJob] = []

    def start(command: list[str], env: dict[str, str] | None = None) -> TerminalJob:
        started.append(TerminalJob(command, tmp_path / f"{len(started)}.log", env))
        return started[-1]

    yield start
    for each in started:
        each.kill()


def stop_and_record(name: str, running: TerminalJob) -> None:
    SECONDS[name] = round(running.ctrl_c(), 2)


PY = sys.executable
COMMANDS = {
    "make serve": (["make", "serve", "FAKE_COST=5,1", "PORT={port}"], "Uvicorn running on"),
    "make lab": (["make", "lab"], "is running at"),
    "load test": ([PY, "-m", "mlcourse.loadtest", "--fake", "--rate", "20", "--duration", "120"], "open-loop load"),
    "make bench": (["make", "bench"], "matmul sizes"),
    "make chaos": (["make", "chaos"], "1/3:"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_ctrl_c_stops_the_command_and_every_process_it_started(name: str, job) -> None:
    command, ready = COMMANDS[name]
    running = job([part.format(port=free_port()) for part in command])
    running.wait_for(ready, timeout_s=240)
    stop_and_record(name, running)


def test_ctrl_c_stops_make_serve_ray_and_its_whole_local_cluster(job) -> None:
    running = job(["make", "serve-ray", "FAKE_COST=5,1", f"PORT={free_port()}"])
    running.wait_for("Ctrl-C stops", timeout_s=300)
    stop_and_record("make serve-ray", running)
    assert "cluster stopped" in running.output()


def test_ctrl_c_stops_class_grading_and_leaves_a_consistent_table(job, tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for learner in ("ada", "bob", "cy"):
        shutil.copytree(REPO_ROOT / "drills", klass / learner, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "grades"
    running = job(["make", "grade-class", f"CLASS={klass}", "DRILLS=d2_jit_matmul",
                   f"GRADE_CLASS_ARGS=--out {out}"])
    running.wait_for("learners graded", timeout_s=240)
    time.sleep(3)  # the first learner's checks are running in their sandbox
    stop_and_record("make grade-class", running)
    table = out / "class.csv"
    if table.exists():  # every row is whole: the header and one complete row per learner graded
        lines = table.read_text().splitlines()
        assert lines and all(line.count(",") == lines[0].count(",") for line in lines), lines
