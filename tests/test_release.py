"""`make release` writes the learners' bundle: no solutions, nothing held back, and its README commands work."""

from __future__ import annotations

import subprocess

import pytest

from mlcourse.grading.release import course_files, exclude_patterns, is_excluded
from mlcourse.paths import MODELS_DIR

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations

SENTIMENT_STAMP = MODELS_DIR / "sentiment-minilm" / "build_stamp.json"


def test_the_bundle_leaves_out_solutions_and_everything_listed_in_release_exclude(release):
    shipped = release.files
    assert not [name for name in shipped if name.startswith("solutions/")]
    patterns = exclude_patterns()
    assert not [name for name in shipped if is_excluded(name, patterns)]
    expected = {name for name in course_files() if not is_excluded(name, patterns)}
    assert shipped == expected
    assert {"README.md", "Makefile", "conftest.py", "drills/d2_jit_matmul/matmul.py"} <= shipped


def test_the_exclusion_rule_matches_a_path_or_any_of_its_folders():
    patterns = ["solutions", "drills/d7_*/key.toml", "docs/internal"]
    assert is_excluded("solutions/d2_jit_matmul/matmul.py", patterns)
    assert is_excluded("drills/d7_quiz/key.toml", patterns)
    assert is_excluded("docs/internal/notes/a.md", patterns)
    assert not is_excluded("drills/d7_quiz/QUESTIONS.md", patterns)
    assert not is_excluded("drills/d2_jit_matmul/solutions_hint.md", patterns)


@pytest.mark.skipif(not SENTIMENT_STAMP.exists(), reason="needs the built sentiment model (make setup)")
def test_the_readme_commands_work_in_the_bundle(bundle):
    """`make lab` resolves to JupyterLab on the bundle; `make test` tests, grades and says what it skipped."""
    lab = subprocess.run(["make", "-n", "lab"], cwd=bundle, capture_output=True, text=True, timeout=60, check=False)
    assert lab.returncode == 0 and "jupyter lab --ServerApp.root_dir=" + str(bundle) in lab.stdout, lab.stdout
    # `-o STAMP`: never reinstall into the shared venv (that would point its editable mlcourse at the bundle).
    stamp = subprocess.run(
        "echo .venv/.installed-$(cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)",
        shell=True,
        cwd=bundle,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    test = subprocess.run(
        ["make", "-o", stamp, "test", "TEST_PATHS=tests/test_grading.py", "DRILL_PATHS=drills/d2_jit_matmul"],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = test.stdout + test.stderr
    assert test.returncode == 0, output[-4000:]
    assert "passed" in output and "Points per drill (--impl drills)" in output
    assert "bracketing proof skipped: it needs the instructor's repository" in output
