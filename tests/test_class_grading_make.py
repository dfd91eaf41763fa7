"""`make grade-class` run as the README says, into its default folder, against `make grade` on the same learner.

The class is built here: the reference as an honest learner (solutions/ laid out like drills/),
the untouched starters of HEAD, and a hostile learner whose d5 exits at import (and who
submitted nothing else). Both commands run
in this checkout, narrowed to a few drills and checks with the README's own knobs; d5's checks
start d1 in a child process that writes a server log, which a read-only course copy must not
receive. The default output folder (build/grades/class/) may hold an instructor's class: it is
moved aside for the test and put back after; the test removes only what it created.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psutil
import pytest

from mlcourse.grading.bracketing import export_starters
from mlcourse.grading.items import ITEMS_FILE, SUMMARY_FILE, SUMMARY_PLOT, check_summaries, read_items
from mlcourse.paths import BUILD_DIR, MODELS_DIR, REPO_ROOT, install_stamp

# The honest learner is the reference; two make runs of a class take a few minutes on a slow, busy box.
pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(600)]

D1, D5, D7 = "d1_sentiment_api", "d5_backpressure", "d7_knowledge_check"
DRILLS = f"{D5},{D7}"  # d5 serves d1 in a child process (d6 never starts d1); d7 costs nothing
CHECKS = "queue_depth or 429_share or answer"  # d5's two checks of one d1 server, and every d7 check
EXITS_AT_IMPORT = "import os\nos._exit(0)\n"


def make(*args: str) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in this checkout, without reinstalling the environment it runs in (``-o`` its stamp)."""
    stamp = install_stamp()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MAKE", "MFLAGS"))}
    return subprocess.run(
        ["make", "--no-print-directory", "-o", stamp, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def build_class(root: Path, tag: str) -> dict[str, Path]:
    honest, blank, hostile = root / f"honest-{tag}", root / f"blank-{tag}", root / f"hostile-{tag}"
    shutil.copytree(REPO_ROOT / "solutions", honest, ignore=shutil.ignore_patterns("__pycache__"))
    export_starters(root / "pristine")
    shutil.move(root / "pristine" / "drills", blank)
    shutil.rmtree(root / "pristine")
    for drill in (D1, D5):  # d5 serves the learner's d1; d7 not submitted, so graded 0 without a run
        shutil.copytree(honest / drill, hostile / drill)
    for module in (hostile / D5).glob("*.py"):
        module.write_text(EXITS_AT_IMPORT + module.read_text())
    return {"honest": honest, "blank": blank, "hostile": hostile}


def left_behind(marker: str) -> list[str]:
    return [
        " ".join(p.info["cmdline"])
        for p in psutil.process_iter(["cmdline"])
        if any(marker in part for part in p.info["cmdline"] or [])
    ]


@pytest.fixture(scope="module")
def default_out():
    """The default output folder, emptied for the test: an instructor's class there is moved aside, then back."""
    out = BUILD_DIR / "grades" / "class"
    kept = out.with_name(f"class.kept-by-test-{uuid.uuid4().hex[:8]}")
    if out.exists():
        out.rename(kept)
    try:
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if kept.exists():
            kept.rename(out)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, default_out: Path) -> dict:
    if not (MODELS_DIR / "sentiment-minilm" / "build_stamp.json").exists():
        pytest.skip("make grade-class sets the course up first: build the model before this test (make setup)")
    tag = uuid.uuid4().hex[:8]  # make grade names its JSON after the folder: never an instructor's file
    klass = tmp_path_factory.mktemp("klass")
    learners = build_class(klass, tag)
    grade_class = make("grade-class", f"CLASS={klass}", f'GRADE_CLASS_ARGS=--drills {DRILLS} -k "{CHECKS}"')
    grade_json = BUILD_DIR / "grades" / f"{learners['honest'].name}.json"
    try:
        grade = make("grade", f"IMPL={learners['honest']}", f"DRILLS={DRILLS}", f"CHECKS={CHECKS}")
        book = json.loads(grade_json.read_text()) if grade_json.exists() else {}
    finally:
        grade_json.unlink(missing_ok=True)
    rows = {}
    if (default_out / "class.csv").exists():
        with (default_out / "class.csv").open(newline="") as handle:
            rows = {row["learner"].split("-")[0]: row for row in csv.DictReader(handle)}
    return {
        "grade_class": grade_class,
        "grade": grade,
        "book": book,
        "rows": rows,
        "out": default_out,
        "klass": klass,
        "items": read_items(default_out / ITEMS_FILE),
    }


def output(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout + done.stderr)[-4000:]


def test_the_honest_learner_gets_from_grade_class_what_make_grade_gives(graded):
    assert graded["grade_class"].returncode == 0, output(graded["grade_class"])
    assert graded["grade"].returncode == 0, output(graded["grade"])
    honest, book = graded["rows"]["honest"], graded["book"]
    assert honest["status"] == "graded" and honest["reasons"] == "", honest
    for drill in (D5, D7):
        ran = [c for c in book["drills"][drill]["checks"] if c["passed"] is not None]  # the others: not selected
        assert ran and all(c["passed"] for c in ran), f"make grade on the reference, {drill}: {ran}"
        earned = book["drills"][drill]["earned"]
        assert int(honest[drill]) == earned, (
            f"{drill}: make grade-class gave {honest[drill]}, make grade {earned}: {honest['reasons']}"
        )
    assert int(honest["possible"]) == int(honest["total"])
    assert "bwrap" in honest["isolation"] or shutil.which("bwrap") is None, honest


def test_blank_starters_and_the_hostile_submission_score_zero(graded):
    blank, hostile = graded["rows"]["blank"], graded["rows"]["hostile"]
    assert (blank[D5], blank[D7], blank["total"]) == ("0", "0", "0"), blank
    assert hostile[D5] == "0" and f"{D5}: crash" in hostile["reasons"], hostile
    assert hostile[D7] == "0" and f"{D7}: not submitted" in hostile["reasons"], hostile


def test_item_analysis_agrees_with_the_class_table(graded):
    out, items = graded["out"], graded["items"]
    assert (out / SUMMARY_FILE).exists() and (out / SUMMARY_PLOT).exists()
    for row in graded["rows"].values():
        for drill in (D5, D7):
            mine = [item for item in items if item["learner"] == row["learner"] and item["drill"] == drill]
            assert sum(int(item["points"]) for item in mine) == int(row[drill]), (row["learner"], drill)
            assert sum(int(item["possible"]) for item in mine) == sum(
                c["points"] for c in graded["book"]["drills"][drill]["checks"] if c["passed"] is not None
            )
    summary = (out / SUMMARY_FILE).read_text()
    for check in check_summaries(items):
        assert f"| {check.drill} | {check.check} |" in summary


def test_nothing_is_left_running(graded):
    assert left_behind(str(graded["klass"])) == []
