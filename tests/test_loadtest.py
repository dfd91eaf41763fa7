"""End to end: the reference API under uvicorn in a child process, loaded by mlcourse.loadtest (fake model)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlcourse.loadtest.cli import main
from mlcourse.paths import REPO_ROOT

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


def test_loadtest_writes_its_report(tmp_path, capsys):
    assert main(["--impl", "solutions", "--fake", "--rate", "40", "--duration", "2", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    run = report["runs"][0]
    assert run["sent"] == 80 and run["statuses"] == {"200": 80}
    assert run["latency_ms_200"]["p99"] > 0 and run["mean_batch"] >= 1
    assert (tmp_path / "report.png").stat().st_size > 0
    assert "| 40 | 80 | 80 |" in (tmp_path / "report.md").read_text()
    assert "p99 ms" in capsys.readouterr().out


def test_serving_an_unwritten_create_app_says_what_is_missing(tmp_path):
    """A starter-like create_app raises NotImplementedError: the launcher says so instead of a traceback."""
    drill = tmp_path / "d1_sentiment_api"
    drill.mkdir()
    (drill / "__init__.py").write_text('"""A submission that has not started."""\n')
    unwritten = "def create_app(predict_batch=None, **limits):\n    raise NotImplementedError('write me')\n"
    (drill / "app.py").write_text(unwritten)
    shown = subprocess.run(
        [sys.executable, "-m", "mlcourse.api.serve", "--impl", str(tmp_path), "--fake"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 1
    assert "create_app is not written yet: write me" in shown.stderr
