"""Every long-running command stops on Ctrl-C, as a person stops it, and leaves no process behind.

A terminal's Ctrl-C is a SIGINT to its foreground process group: ``make``, the command it runs, and
everything those start in the same group. Each check starts the README's command as written, the
way a shell starts a foreground job (its own process group, SIGINT at its default), waits until the
command says it is working, sends that SIGINT to the group, and then waits for every process the
command started, in any group or session, to end. Seconds from SIGINT to the last process gone are
written to ``build/ctrl_c/seconds.json``.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcourse.api.process import free_port
from mlcourse.paths import BUILD_DIR, REPO_ROOT

pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(420)]

SECONDS: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def seconds_report() -> Iterator[None]:
    yield
    out = BUILD_DIR / "ctrl_c" / "seconds.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(SECONDS, indent=2) + "\n")


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
    SECONDS[name] = round(running.ctrl_c(), 2)


def test_ctrl_c_stops_make_serve_ray_and_its_whole_local_cluster(job) -> None:
    running = job(["make", "serve-ray", "FAKE_COST=5,1", f"PORT={free_port()}"])
    running.wait_for("Ctrl-C stops", timeout_s=300)
    SECONDS["make serve-ray"] = round(running.ctrl_c(), 2)
    assert "cluster stopped" in running.output()


def test_ctrl_c_stops_class_grading_and_leaves_a_consistent_table(job, tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for learner in ("ada", "bob", "cy"):
        shutil.copytree(REPO_ROOT / "drills", klass / learner, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "grades"
    running = job(["make", "grade-class", f"CLASS={klass}", "DRILLS=d2_jit_matmul", f"GRADE_CLASS_ARGS=--out {out}"])
    running.wait_for("learners graded", timeout_s=240)
    time.sleep(3)  # the first learner's checks are running in their sandbox
    SECONDS["make grade-class"] = round(running.ctrl_c(), 2)
    table = out / "class.csv"
    if table.exists():  # every row is whole: the header and one complete row per learner graded
        rows = list(csv.reader(table.open()))
        assert rows and all(len(row) == len(rows[0]) for row in rows), rows
