"""Grade a whole class, treating every submission as hostile.

Each learner's drills run one pytest per drill, in a fresh throwaway copy of the course
(``sandbox``), in their own session with no stdin, under bubblewrap where it is installed, with a
wall-clock, per-check and memory limit (``limits``). Points come from the cross-check of the
run's channels (``crosscheck``). Each learner's row is appended to ``class.csv`` (and its checks to
``items.csv``) as soon as it is graded, so a grader that dies keeps what it had and a second run
resumes where it stopped; the class summary (``items``) is drawn at the end of every run.
With ``RAY_ADDRESS`` set, each learner is graded the same way on a node of that Ray cluster
(``on_ray``), and the rows are appended here as they come back.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm.auto import tqdm

from mlcourse.distributed.cluster import joined
from mlcourse.grading.crosscheck import DrillVerdict, judge, zero
from mlcourse.grading.feedback import class_row, write_feedback
from mlcourse.grading.gradebook import Check
from mlcourse.grading.items import ITEMS_FILE, append_items, item_rows, keep_learners, write_item_analysis
from mlcourse.grading.limits import Limits, run_limited
from mlcourse.grading.sandbox import (
    PLUGINS_OFF,
    build_workspace,
    bwrap_path,
    fingerprint,
    isolation_name,
    sandbox_env,
    wrap,
)
from mlcourse.grading.timing_lock import TimingLock, timed_drills
from mlcourse.impl import DRILL_FOLDER
from mlcourse.paths import BUILD_DIR_ENV, REPO_ROOT

FIXED_COLUMNS = ("learner", "total", "possible", "status")
TRAILING_COLUMNS = ("reasons", "isolation", "seconds")


def course_checks(course_root: Path, drills: list[str], pytest_args: tuple[str, ...]) -> dict[str, list[Check]]:
    """The course's own pointed checks per drill (as selected), collected from the course, never a submission."""
    with tempfile.TemporaryDirectory() as scratch:
        grades = Path(scratch) / "checks.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *(f"drills/{d}" for d in drills),
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                "--grades",
                str(grades),
                *PLUGINS_OFF,
                *pytest_args,
            ],
            cwd=course_root,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if not grades.exists():
            raise RuntimeError(f"could not collect the course's checks in {course_root}/drills:\n{done.stdout[-2000:]}")
        summary = json.loads(grades.read_text())
    selected = {line.strip() for line in done.stdout.splitlines() if "::" in line}
    return {
        drill: [
            Check(c["nodeid"], drill, c["points"], c["description"])
            for c in summary["drills"].get(drill, {}).get("checks", [])
            if c["nodeid"] in selected
        ]
        for drill in drills
    }


def course_drills(course_root: Path) -> list[str]:
    """Every ``dN_name`` drill folder of the course that has checks (new drills need no registration)."""
    return sorted(
        p.name
        for p in (course_root / "drills").iterdir()
        if p.is_dir() and DRILL_FOLDER.match(p.name) and any(p.glob("test_*.py"))
    )


def started_checks(log: Path) -> list[str]:
    """The node ids of the tests a run started, in order (the run may have been killed mid-line)."""
    try:
        return log.read_text(errors="replace").splitlines()
    except OSError:
        return []


class ClassGrader:
    """Grades learners one drill run at a time and appends each learner's row when it is done."""

    def __init__(
        self,
        out_dir: Path,
        *,
        drills: list[str],
        limits: Limits,
        use_bwrap: bool,
        course_root: Path = REPO_ROOT,
        pytest_args: tuple[str, ...] = (),
        checks: dict[str, list[Check]] | None = None,
    ) -> None:
        self.out_dir, self.drills, self.limits, self.use_bwrap = out_dir, drills, limits, use_bwrap
        self.course_root, self.pytest_args = course_root, pytest_args
        self.table, self.items = out_dir / "class.csv", out_dir / ITEMS_FILE
        self.columns = [*FIXED_COLUMNS, *drills, *TRAILING_COLUMNS]
        self.lock = threading.Lock()
        self.checks = checks if checks is not None else course_checks(course_root, drills, pytest_args)
        self.course_print = "" if use_bwrap else fingerprint(course_root)
        self.timing, self.timed = TimingLock(), timed_drills(course_root, drills)

    def already_graded(self) -> set[str]:
        """Learners with a row from an earlier run (which is resumed, not redone)."""
        if not self.table.exists():
            return set()
        with self.table.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != self.columns:
                raise SystemExit(f"{self.table} has other columns ({reader.fieldnames}); grade into another --out")
            graded = {row["learner"] for row in reader}
        keep_learners(self.items, graded)
        return graded

    def append(self, row: dict[str, object], items: list[dict[str, str]]) -> None:
        with self.lock:
            append_items(self.items, items)
            new = not self.table.exists()
            with self.table.open("a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=self.columns)
                if new:
                    writer.writeheader()
                writer.writerow(row)
                handle.flush()
                os.fsync(handle.fileno())

    def run_drill(self, learner: Path, drill: str, budget_s: float) -> DrillVerdict:
        """One drill of one learner, in a fresh copy of the course and a fresh results folder."""
        expected = [c.blank() for c in self.checks[drill]]
        space = build_workspace(self.course_root, learner, self.out_dir / "work" / f"{learner.name}-{drill}")
        results = space.results / uuid.uuid4().hex
        results.mkdir()
        started = results / "started.log"
        copy_print = fingerprint(space.course)
        # The copy's own configuration (--rootdir alone makes pytest skip it), and none of its ancestors' conftest.py:
        # a copy inside the course tree (the default --out) must not load the course's own.
        command = [
            sys.executable,
            "-m",
            "pytest",
            f"drills/{drill}",
            "--impl",
            str(space.submission),
            "--grades",
            str(results / "grades.json"),
            "--junitxml",
            str(results / "junit.xml"),
            "--started-log",
            str(started),
            "-p",
            "no:cacheprovider",
            "-q",
            "--tb=line",
            "--no-header",
            "-c",
            str(space.course / "pyproject.toml"),
            "--rootdir",
            str(space.course),
            "--confcutdir",
            str(space.course),
            f"--timeout={self.limits.check_s:g}",
            "--timeout-method=thread",
            *PLUGINS_OFF,
            *self.pytest_args,
        ]
        if not self.use_bwrap and shutil.which("timeout"):
            # A middle process: a submission that signals its parent hits `timeout`, which passes it on to pytest.
            command = ["timeout", "--kill-after=5", f"{budget_s:.0f}", *command]
        log = self.out_dir / "logs" / learner.name / f"{drill}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        env = {**sandbox_env(), BUILD_DIR_ENV: str(results / "build")}  # what checks write: never the course copy
        outcome = run_limited(
            wrap(command, space, results, self.use_bwrap),
            cwd=space.course,
            env=env,
            log=log,
            wall_s=budget_s,
            memory_bytes=self.limits.memory_bytes,
        )
        verdict = judge(
            drill,
            expected,
            results,
            outcome.returncode,
            outcome.killed_for,
            log.read_text(errors="replace"),
            started_checks(started),
        )
        if fingerprint(space.course) != copy_print:
            verdict = zero(drill, expected, "needs review: the run changed the course's checks or harness")
        shutil.rmtree(space.root, ignore_errors=True)
        return verdict

    def grade(self, learner: Path) -> dict[str, object]:
        row, items = self.assess(learner)
        self.append(row, items)
        return row

    def assess(self, learner: Path) -> tuple[dict[str, object], list[dict[str, str]]]:
        """Grade every drill of one learner; write its feedback and logs under ``out_dir``; its row and items."""
        start = time.monotonic()
        verdicts = []
        for drill in self.drills:
            left = self.limits.learner_s - (time.monotonic() - start)
            if left <= 1:
                verdicts.append(zero(drill, self.checks[drill], "time limit: the learner's time was spent"))
                continue
            if not (learner / drill).is_dir():
                verdicts.append(zero(drill, self.checks[drill], f"not submitted: no {drill}/ folder"))
                continue
            try:
                with self.timing.hold(exclusive=drill in self.timed) as waited:
                    start += waited  # waiting for another learner's benchmark is not this learner's time
                    verdicts.append(self.run_drill(learner, drill, left))
            except (OSError, shutil.Error) as error:  # e.g. an unreadable or odd file in the submission
                verdicts.append(zero(drill, self.checks[drill], f"needs review: could not be graded ({error})"))
        if not self.use_bwrap and fingerprint(self.course_root) != self.course_print:  # bwrap: read-only
            verdicts = [
                zero(v.drill, v.checks, "needs review: the course tree changed during grading") for v in verdicts
            ]
        isolation = isolation_name(self.use_bwrap)
        write_feedback(self.out_dir, learner.name, verdicts, isolation)
        return class_row(learner.name, verdicts, isolation, time.monotonic() - start), item_rows(learner.name, verdicts)


class ClassIncomplete(RuntimeError):
    """Some learners could not be graded (on a cluster): they have no row, and the next run grades them."""


def grade_class(
    submissions: Path,
    out_dir: Path,
    *,
    jobs: int = 1,
    limits: Limits = Limits(),
    drills: list[str] | None = None,
    use_bwrap: bool = True,
    course_root: Path = REPO_ROOT,
    pytest_args: tuple[str, ...] = (),
) -> Path:
    """Grade every learner folder in ``submissions`` (resuming), ``jobs`` at a time; return class.csv.

    ``use_bwrap``: bubblewrap where it is installed. With ``RAY_ADDRESS`` set the learners are Ray
    tasks on that cluster instead (``jobs`` is then its free CPUs), each node using its own bwrap.
    """
    out_dir = out_dir.resolve()  # the sandbox runs elsewhere: a relative path would point nowhere there
    out_dir.mkdir(parents=True, exist_ok=True)
    grader = ClassGrader(
        out_dir,
        drills=drills or course_drills(course_root),
        limits=limits,
        use_bwrap=use_bwrap and bwrap_path() is not None,
        course_root=course_root,
        pytest_args=pytest_args,
    )
    done = grader.already_graded()
    learners = sorted(
        p for p in submissions.resolve().iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in done
    )
    failed: list[str] = []
    if joined():
        from mlcourse.grading.on_ray import grade_on_ray  # imports Ray: only where a cluster is used

        failed = grade_on_ray(grader, learners, use_bwrap=use_bwrap)
    else:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for _ in tqdm(pool.map(grader.grade, learners), total=len(learners), desc="learners graded"):
                pass
    shutil.rmtree(out_dir / "work", ignore_errors=True)
    write_item_analysis(out_dir)
    if failed:
        raise ClassIncomplete("\n".join(failed))
    return grader.table
