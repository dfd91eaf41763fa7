"""Fixtures for the course's own tests: commands run as a person runs them in a terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from mlcourse.paths import MODELS_DIR, REPO_ROOT, install_stamp

STOP_WITHIN_S = 15.0  # "within a few seconds", with room for a loaded 2-core machine


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
            self.leader = subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
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
                pytest.fail(
                    f"the command ended (exit {self.leader.returncode}) before saying {text!r}:\n"
                    f"{self.output()[-3000:]}"
                )
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
        assert not left, (
            f"{seconds:.0f} s after Ctrl-C these still run: {[describe(p) for p in left]}\n{self.output()[-3000:]}"
        )
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


@dataclass(frozen=True)
class Release:
    """A learners' bundle as ``make release`` wrote it."""

    root: Path
    files: frozenset[str]  # its files, listed before anything was linked in or run there


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """A fresh learners' bundle, built once for every test of the bundle."""
    out = tmp_path_factory.mktemp("release") / "course"
    done = subprocess.run(
        [sys.executable, "-m", "mlcourse.grading", "release", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Release(out, frozenset(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))


@pytest.fixture(scope="session")
def bundle(release: Release) -> Path:
    """The release set up as ``.ci/run`` sets it up: the installed venv linked in, the built models' folders linked
    and their files copied (commands write there), its install stamp older than the venv's so that make never
    reinstalls the shared venv, and the quickstart's first step (``make setup``) run."""
    stamp = REPO_ROOT / install_stamp()
    if not stamp.exists() or not (MODELS_DIR / "sentiment-minilm").is_dir():
        pytest.skip("needs the installed environment and the built models (make setup)")
    out = release.root
    (out / ".venv").symlink_to(REPO_ROOT / ".venv")
    (out / "data" / "models").mkdir(parents=True)
    for entry in MODELS_DIR.iterdir():
        if entry.is_dir():
            (out / "data" / "models" / entry.name).symlink_to(entry)
        else:
            (out / "data" / "models" / entry.name).write_bytes(entry.read_bytes())
    for name in ("requirements.txt", "pyproject.toml"):
        os.utime(out / name, (stamp.stat().st_mtime - 60,) * 2)
    setup = subprocess.run(["make", "setup"], cwd=out, capture_output=True, text=True, timeout=120, check=False)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return out


@pytest.fixture(scope="session")
def bundle_env(bundle: Path) -> dict[str, str]:
    """The environment of a learner's terminal in the bundle: its venv activated, its own tree imported first (the
    shared venv's editable install is this repository's), the model hub offline."""
    env = {
        **os.environ,
        "PATH": f"{bundle / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(bundle),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MLCOURSE_BUILD_DIR", None)
    return env
