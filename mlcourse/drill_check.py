"""A drill's checks from inside a notebook: ``from mlcourse import check; check("d2")``.

The checks run in a child pytest (``--impl drills``, the learner's code), never in the kernel: a
drill module that crashes, hangs or leaks state costs the child, and the kernel lives on. A
progress line follows the checks as they finish; past ``limit_s`` the child's whole process
group is stopped (SIGINT, as Ctrl-C does, then SIGKILL). The result shows as the cell's output:
the points table and each failed check's message, in HTML in Jupyter and as text elsewhere, with
a link to the drill's README.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from mlcourse.grading.gradebook import Check, Gradebook
from mlcourse.paths import REPO_ROOT

STOP_GRACE_S = 5.0  # after SIGINT, how long pytest may take to write its summary before SIGKILL
PROGRESS = re.compile(r"::(?P<name>\S+) (?:PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\s+\[\s*(?P<percent>\d+)%\]")


def _message(check: Check) -> str:
    return check.message or ("" if check.passed else "not run")


@dataclass
class Feedback:
    """What one run of a drill's checks found; a notebook shows it as HTML, a terminal as text."""

    drill: str  # the folder name, e.g. d2_jit_matmul
    readme: Path
    checks: list[Check]
    timed_out: bool
    limit_s: float
    log_tail: str  # pytest's last lines, shown when it ended before any check ran

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def _table(self) -> list[str]:
        book = Gradebook("drills")
        for check in self.checks:
            book.add(check)
        return book.table_lines()

    def _notes(self) -> list[str]:
        notes = []
        if self.timed_out:
            notes.append(
                f"Stopped at the time limit ({self.limit_s:g} s): a check or your code at import "
                f"did not finish. Look for a loop or a wait that never ends."
            )
        if not self.checks:
            notes.append(f"No check ran. pytest's last lines:\n{self.log_tail}")
        return notes

    def _link(self) -> str:
        """The README relative to the notebook's folder (where the kernel runs), else in full."""
        inside = Path.cwd().resolve().is_relative_to(REPO_ROOT)
        return os.path.relpath(self.readme, Path.cwd()) if inside else str(self.readme)

    def __repr__(self) -> str:
        lines = [*self._notes()]
        if self.checks:
            lines += self._table()
            lines += [f"FAILED {c.name} ({c.points} pt): {_message(c)}" for c in self.failed]
        lines.append(f"The task and its checks: {self._link()}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [
            f"<p><b>{html.escape(note)}</b></p>" if "\n" not in note else f"<pre>{html.escape(note)}</pre>"
            for note in self._notes()
        ]
        if self.checks:
            earned = sum(c.points for c in self.checks if c.passed)
            possible = sum(c.points for c in self.checks)
            rows = "".join(
                f"<tr><td>{'✅' if c.passed else '❌'}</td><td><code>{html.escape(c.name)}</code></td>"
                f"<td>{c.points}</td><td>{html.escape(_message(c))}</td></tr>"
                for c in self.checks
            )
            parts.append(
                f"<p><b>{html.escape(self.drill)}: {earned}/{possible} points</b></p>"
                f"<table><tr><th></th><th>check</th><th>points</th><th>message</th></tr>{rows}</table>"
            )
        link = html.escape(self._link())
        parts.append(f'<p>The task and its checks: <a href="{link}" target="_blank">{link}</a></p>')
        return "\n".join(parts)


def drill_folder(drill: str, root: Path = REPO_ROOT) -> Path:
    """``d2`` or ``d2_jit_matmul`` to the drill's folder under ``drills/``."""
    matches = sorted(p for p in (root / "drills").glob(f"{drill.split('_')[0]}_*") if p.is_dir())
    if not matches:
        raise ValueError(f"no drill {drill!r}: expected d1 to d7 (folders in {root / 'drills'})")
    return matches[0]


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the child's whole process group, then SIGKILL what is left."""
    for sig, wait_s in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _follow(stream, bar: tqdm, tail: list[str]) -> None:
    for line in stream:
        tail[:] = [*tail[-19:], line.rstrip()]
        if found := PROGRESS.search(line):
            bar.set_postfix_str(found["name"][:40], refresh=False)
            bar.update(int(found["percent"]) - bar.n)


def check(drill: str, impl: str | Path = "drills", limit_s: float = 600.0) -> Feedback:
    """Run ``drill``'s checks on ``impl`` (the learner's ``drills/``, or a folder laid out like it) in a child."""
    folder = drill_folder(drill)
    with tempfile.TemporaryDirectory(prefix="mlcourse-check-") as tmp:
        grades = Path(tmp) / "grades.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(folder.relative_to(REPO_ROOT)),
            "--impl",
            str(impl),
            "--grades",
            str(grades),
            "-v",
            "--color=no",
            "--tb=no",
            "-p",
            "no:cacheprovider",
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        tail: list[str] = []
        with tqdm(total=100, desc=folder.name, unit="%") as bar:
            reader = threading.Thread(target=_follow, args=(process.stdout, bar, tail), daemon=True)
            reader.start()
            try:
                process.wait(timeout=limit_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                _stop(process)
            reader.join(timeout=STOP_GRACE_S)
        summary = json.loads(grades.read_text()) if grades.is_file() else {"drills": {}}
    checks = [Check(**c) for c in summary["drills"].get(folder.name, {}).get("checks", [])]
    return Feedback(folder.name, folder / "README.md", checks, timed_out, limit_s, "\n".join(tail[-8:]))
