"""End to end: the harness grades a submission folder laid out like drills/ and writes its grades."""

import json
import shutil
import subprocess
import sys

import pytest

from mlcourse.paths import REPO_ROOT

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


def test_a_submission_folder_is_graded_and_its_grades_written(tmp_path):
    submission = tmp_path / "alice"
    shutil.copytree(
        REPO_ROOT / "solutions" / "d2_jit_matmul",
        submission / "d2_jit_matmul",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    grades = tmp_path / "alice.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "drills/d2_jit_matmul",
            "--impl",
            str(submission),
            "--grades",
            str(grades),
            "-k",
            "matches_numpy or jit_compiled",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Points per drill (--impl " in result.stdout
    summary = json.loads(grades.read_text())
    assert summary["impl"] == str(submission)
    assert summary["drills"]["d2_jit_matmul"]["earned"] == 4


def test_an_unknown_impl_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "drills/d2_jit_matmul",
            "--impl",
            str(tmp_path / "missing"),
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "laid out like drills/" in result.stderr
