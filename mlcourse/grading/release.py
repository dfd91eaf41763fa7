"""The learners' bundle: the course as learners get it, without solutions or anything held back.

One documented rule decides what stays behind: ``solutions/`` always, plus every glob in the
repository's ``RELEASE_EXCLUDE`` file (one per line, ``#`` comments), matched against a file's
path from the repository root and against each of its parent folders. A drill that holds
instructor-only material lists it there; no name is hard-coded here.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from mlcourse.paths import REPO_ROOT

ALWAYS_EXCLUDED = ("solutions", "RELEASE_EXCLUDE", ".git", ".venv", "build", "data/models")
SKIPPED_NAMES = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache")
EXCLUDE_FILE = "RELEASE_EXCLUDE"


def exclude_patterns(root: Path = REPO_ROOT) -> list[str]:
    listed = (root / EXCLUDE_FILE).read_text().splitlines() if (root / EXCLUDE_FILE).exists() else []
    return [*ALWAYS_EXCLUDED, *(line.strip() for line in listed if line.strip() and not line.startswith("#"))]


def is_excluded(relative: str, patterns: list[str]) -> bool:
    """True when the path or one of its parent folders matches a pattern."""
    path = PurePosixPath(relative)
    candidates = [str(path), *(str(parent) for parent in path.parents if str(parent) != ".")]
    return any(part in SKIPPED_NAMES for part in path.parts) or any(
        fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates for pattern in patterns
    )


def course_files(root: Path = REPO_ROOT) -> list[str]:
    """Files of the course: git's view (tracked and new, not ignored) in a checkout, else every file."""
    done = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return sorted(name for name in done.stdout.split("\0") if name and (root / name).is_file())
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def build_release(out: Path, root: Path = REPO_ROOT) -> Path:
    """Copy every course file not excluded into ``out`` (emptied first); return ``out``."""
    out = out.resolve()
    if out == root.resolve() or root.resolve().is_relative_to(out):
        raise ValueError(f"refusing to write the bundle over the course itself ({out})")
    shutil.rmtree(out, ignore_errors=True)
    patterns = exclude_patterns(root)
    for name in course_files(root):
        if is_excluded(name, patterns):
            continue
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
        if os.access(root / name, os.X_OK):
            target.chmod(target.stat().st_mode | 0o111)
    return out
