"""Class grading against a class of honest and hostile submissions built here from solutions and starters.

Each hostile learner is the untouched d2 starter (or, for forged figures, d3) plus one attack at
import time, so the drill it attacks must score 0 whatever the attack does; the proof is that
the grader survives, the reason is in the row, honest learners are unaffected, the course tree
is unchanged and no process is left. Tiny limits (12 s per check) keep it bounded.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from mlcourse.grading.class_grading import course_checks
from mlcourse.grading.sandbox import bwrap_path
from mlcourse.paths import REPO_ROOT

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations

D2, D3 = "d2_jit_matmul", "d3_tabular_mlp"
D2_CHECKS = "matches_numpy or jit_compiled or held_out_accuracy or under_60"  # d2: 4 points, d3: 4
ATTACKED_CHECK_FILE = REPO_ROOT / "drills" / D2 / "test_d2_jit_matmul.py"

ATTACKS = {
    "hang": "while True:\n    pass\n",
    "exits": "import os\nos._exit(0)\n",
    "kills_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)\n",
    "memory_hog": (
        "import time\nheld = []\nfor _ in range(24):  # at most 6 GiB, in case the limit fails\n"
        "    held.append(bytearray(b'x') * (256 << 20))\n    time.sleep(0.05)\n"
    ),
    "writes_outside": (
        "from pathlib import Path\nimport mlcourse\n"
        "PASSING = 'import pytest\\n@pytest.mark.points(1)\\ndef test_free():\\n    pass\\n'\n"
        "for target in (Path(mlcourse.__file__).parents[1] / 'drills/d2_jit_matmul/test_d2_jit_matmul.py', {real!r}):\n"
        "    try:\n        Path(target).write_text(PASSING)\n    except OSError:\n        pass\n"
    ),
    "patches_gradebook": (
        "from mlcourse.grading import gradebook\nrecord = gradebook.Gradebook.record_phase\n"
        "gradebook.Gradebook.record_phase = lambda self, nodeid, passed, message: record(self, nodeid, True, '')\n"
    ),
    "writes_own_grades": (
        "import json, os, sys\nwith open(sys.argv[sys.argv.index('--grades') + 1], 'w') as out:\n"
        "    json.dump({forged!r}, out)\nos._exit(0)\n"
    ),
}
FORGED_TRAIN = '''
from mlcourse.tabular.contract import TrainResult


def train(prepared, **options):
    """Trains nothing; claims a perfect, instant run."""
    return TrainResult(val_accuracy=0.99, train_seconds=0.001, history=[])
'''


def copy_drill(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "test_*.py", "conftest.py"))
    return dest


def forged_grades(nodeids: list[str]) -> dict:
    checks = [
        {"nodeid": n, "drill": D2, "points": 1, "description": n, "passed": True, "message": "", "metrics": {}}
        for n in nodeids
    ]
    return {
        "impl": "forged",
        "earned": len(checks),
        "possible": len(checks),
        "drills": {D2: {"earned": len(checks), "possible": len(checks), "checks": checks}},
    }


def build_class(root: Path, d2_nodeids: list[str], *, real_course_writable: bool) -> Path:
    """One honest learner, blank starters, one learner per attack on d2, and forged d3 figures.

    Only d2 is honest here (d3's real training takes minutes on busy cores); that the reference
    passes the d3 checks is proved by ``make test``.
    """
    copy_drill(REPO_ROOT / "solutions" / D2, root / "honest" / D2)
    copy_drill(REPO_ROOT / "drills" / D2, root / "blank" / D2)
    real_target = "/nonexistent/skipped" if real_course_writable else str(ATTACKED_CHECK_FILE)
    for name, attack in ATTACKS.items():
        module = copy_drill(REPO_ROOT / "drills" / D2, root / name / D2) / "matmul.py"
        code = attack.replace("{real!r}", repr(real_target)).replace("{forged!r}", repr(forged_grades(d2_nodeids)))
        module.write_text(code + module.read_text())
    forged = copy_drill(REPO_ROOT / "solutions" / D3, root / "forged_figures" / D3)
    (forged / "train.py").write_text(FORGED_TRAIN)
    return root


def left_behind(marker: str) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in process.info["cmdline"] or []):
            found.append(" ".join(process.info["cmdline"]))
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Grade the class once (2 at a time), with 12 s per check and 1.5 GiB per learner."""
    root = tmp_path_factory.mktemp("klass")
    d2_nodeids = [c.nodeid for c in course_checks(REPO_ROOT, [D2], ("-k", D2_CHECKS))[D2]]
    use_bwrap = bwrap_path() is not None
    klass = build_class(root / "class", d2_nodeids, real_course_writable=not use_bwrap)
    before = ATTACKED_CHECK_FILE.read_bytes()
    out = root / "out"
    command = [
        sys.executable,
        "-m",
        "mlcourse.grading",
        "class",
        str(klass),
        "--out",
        str(out),
        "-j",
        "2",
        "--drills",
        f"{D2},{D3}",
        "--check-limit",
        "12",
        "--learner-limit",
        "240",
        "--memory-gib",
        "1.5",
        "-k",
        D2_CHECKS,
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    with (out / "class.csv").open(newline="") as handle:
        rows = {row["learner"]: row for row in csv.DictReader(handle)}
    return {
        "done": done,
        "rows": rows,
        "out": out,
        "klass": klass,
        "command": command,
        "use_bwrap": use_bwrap,
        "check_file_unchanged": ATTACKED_CHECK_FILE.read_bytes() == before,
    }


def test_the_grader_finishes_with_a_row_for_every_learner(graded):
    assert graded["done"].returncode == 0, graded["done"].stdout[-3000:] + graded["done"].stderr[-3000:]
    assert set(graded["rows"]) == {"honest", "blank", "forged_figures", *ATTACKS}
    for learner in graded["rows"]:
        assert (graded["out"] / "feedback" / f"{learner}.md").exists()


def test_honest_learner_gets_full_marks_and_blank_starters_zero(graded):
    honest, blank = graded["rows"]["honest"], graded["rows"]["blank"]
    assert (honest[D2], honest["status"], honest["reasons"]) == ("4", "graded", f"{D3}: not submitted: no {D3}/ folder")
    assert (blank[D2], blank["status"]) == ("0", "graded"), blank
    assert "d2" not in blank["reasons"], blank
    expected = "bwrap" if graded["use_bwrap"] else "own session"
    assert honest["isolation"].startswith(expected)


@pytest.mark.parametrize(
    ("learner", "reason"),
    [
        ("hang", "time limit in test_"),  # the check it was stopped in, not only its drill
        ("exits", "crash"),
        ("kills_parent", ""),
        ("memory_hog", "memory limit"),
        ("writes_outside", ""),
        ("patches_gradebook", "needs review"),
        ("writes_own_grades", "needs review"),
    ],
)
def test_each_attack_scores_zero_on_d2_with_its_reason(graded, learner, reason):
    row = graded["rows"][learner]
    assert row[D2] == "0", row
    assert reason in row["reasons"], row


def test_forged_d3_figures_earn_nothing(graded):
    row = graded["rows"]["forged_figures"]
    assert row[D3] == "0", row
    feedback = (graded["out"] / "feedback" / "forged_figures.md").read_text()
    assert "TrainResult.model" in feedback


def test_the_course_tree_is_unchanged_and_no_process_is_left(graded):
    assert graded["check_file_unchanged"], f"a submission rewrote {ATTACKED_CHECK_FILE}"
    assert left_behind(str(graded["klass"])) == []
    assert left_behind(str(graded["out"])) == []


def test_a_second_run_resumes_and_regrades_nobody(graded):
    done = subprocess.run(graded["command"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with (graded["out"] / "class.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(graded["rows"])


def test_grades_file_of_the_run_is_never_read_from_the_submission(graded):
    feedback = (graded["out"] / "feedback" / "writes_own_grades.md").read_text()
    assert "results missing or unreadable" in feedback
    assert graded["rows"]["writes_own_grades"]["status"] == "needs review"
