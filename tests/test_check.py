"""``check("dN")`` from a notebook: the drill's checks run in a child, and a hanging learner module is stopped."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psutil

from mlcourse import check
from mlcourse.drill_check import STOP_GRACE_S
from mlcourse.paths import REPO_ROOT

D2 = REPO_ROOT / "drills" / "d2_jit_matmul"


def test_the_untouched_d2_starter_earns_nothing_and_says_why(tmp_path: Path) -> None:
    starter = tmp_path / "d2_jit_matmul"
    shutil.copytree(D2, starter, ignore=shutil.ignore_patterns("__pycache__"))  # the starter, even if drills/ is solved
    feedback = check("d2", impl=tmp_path, limit_s=300)
    assert not feedback.timed_out
    assert feedback.checks and not any(c.passed for c in feedback.checks)
    assert all(c.message for c in feedback.failed), "every failed check says what to change"
    text, page = repr(feedback), feedback._repr_html_()
    assert "0/" in text and "FAILED" in text and "d2_jit_matmul/README.md" in text
    assert "<table>" in page and 'href="' in page and "README.md" in page


def test_a_module_that_hangs_at_import_ends_at_the_time_limit(tmp_path: Path) -> None:
    hanging = tmp_path / "d2_jit_matmul"
    shutil.copytree(D2, hanging, ignore=shutil.ignore_patterns("__pycache__"))
    matmul = hanging / "matmul.py"
    matmul.write_text("import time\ntime.sleep(600)\n" + matmul.read_text())
    start = time.monotonic()
    feedback = check("d2", impl=tmp_path, limit_s=5)
    assert time.monotonic() - start < 5 + 2 * STOP_GRACE_S + 5, "the child outlived its time limit"
    assert feedback.timed_out
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
    assert not left, f"the child's processes outlived the time limit: {left}"
    assert not any(c.passed for c in feedback.checks)
    assert "time limit (5 s)" in repr(feedback) and "time limit" in feedback._repr_html_()
