"""A throwaway copy of the course holding one submission, and the command that runs pytest inside it.

The copy holds what grading needs (the harness, the shared package, the checks and small data);
the expensive artefacts (``data/models``, the virtual environment) are reached where they are,
never copied. Under bubblewrap the whole file system is read-only but for one fresh results
folder, ``/tmp`` is private, there is no network, and the sandbox dies with the grader.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE_PARTS = ("conftest.py", "pyproject.toml", "mlcourse", "drills", "data")
SHARED_READ_ONLY = ("data/models",)  # linked, not copied
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "models")
# pytest plugins no drill check uses (name: the package a check would import), turned off in each drill run: loading
# them costs seconds at every start (nbval and schemathesis build jsonschema's format grammars), seven starts a learner.
# tests/test_class_grading_units.py keeps drill code from importing those packages.
PLUGINS_NO_CHECK_USES = {"nbval": "nbval", "schemathesis": "schemathesis", "hypothesispytest": "hypothesis"}
PLUGINS_OFF = tuple(arg for name in PLUGINS_NO_CHECK_USES for arg in ("-p", f"no:{name}"))


def bwrap_path() -> str | None:
    """bubblewrap's executable on Linux, or None where it is not installed."""
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


def isolation_name(use_bwrap: bool) -> str:
    return "bwrap (read-only course, private /tmp, no network)" if use_bwrap else "own session and course copy"


@dataclass(frozen=True)
class Workspace:
    """One learner's throwaway course: ``course/`` (checks and harness), ``submission/``, ``results/``."""

    root: Path
    course_root: Path  # the course it was copied from: its symlinks (data/models, .venv) point there

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results(self) -> Path:
        return self.root / "results"


def build_workspace(course_root: Path, submission: Path, root: Path) -> Workspace:
    """Copy the course's grading parts and the submission into a fresh ``root`` (removed first)."""
    shutil.rmtree(root, ignore_errors=True)
    space = Workspace(root, course_root)
    space.course.mkdir(parents=True)
    for part in COURSE_PARTS:
        source = course_root / part
        if source.is_dir():
            shutil.copytree(source, space.course / part, ignore=SKIP, symlinks=True)
        elif source.is_file():
            shutil.copy2(source, space.course / part)
    for shared in SHARED_READ_ONLY:
        if (course_root / shared).exists():
            (space.course / shared).symlink_to(course_root / shared)
    shutil.copytree(submission, space.submission, ignore=SKIP, symlinks=True)
    space.results.mkdir()
    return space


def fingerprint(root: Path, parts: tuple[str, ...] = ("conftest.py", "pyproject.toml", "mlcourse", "drills")) -> str:
    """A hash of the course's code and checks, to prove a learner's run changed none of them."""
    digest = hashlib.sha256()
    for part in parts:
        base = root / part
        files = (
            sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if base.is_dir()
            else [base]
        )
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def sandbox_env() -> dict[str, str]:
    """A small, known environment: no inherited secrets, caches in the private /tmp, offline hub."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "XDG_CACHE_HOME": "/tmp/cache",
        "HF_HOME": "/tmp/huggingface",
        "HF_HUB_OFFLINE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


def wrap(command: list[str], space: Workspace, results: Path, use_bwrap: bool) -> list[str]:
    """``command`` as run for a learner: inside bubblewrap when ``use_bwrap``, else as it is."""
    if not use_bwrap:
        return command
    return [
        bwrap_path() or "bwrap",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        # What the private /tmp would hide if it lives there: the workspace, the course its symlinks
        # point to (data/models, .venv) and the interpreter's environment.
        *[
            arg
            for path in dict.fromkeys(map(str, (space.root, space.course_root, Path(sys.prefix))))
            for arg in ("--ro-bind", path, path)
        ],
        # The reference stays the instructor's: a learner's code finds an empty folder where solutions/ is.
        *(["--tmpfs", str(space.course_root / "solutions")] if (space.course_root / "solutions").is_dir() else []),
        "--bind",
        str(results),
        str(results),
        "--unshare-all",  # network, pids, ipc, uts...: loopback only, the grader's processes invisible
        "--die-with-parent",
        "--new-session",
        "--chdir",
        str(space.course),
        *command,
    ]
