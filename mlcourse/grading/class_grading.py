"""Grade a whole class: one pytest run per learner folder, one sortable CSV row per learner."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from mlcourse.paths import REPO_ROOT


def grade_class(submissions: Path, out_dir: Path, pytest_args: list[str]) -> Path:
    """Grade every sub-folder of ``submissions`` and write one sortable CSV row per learner."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    learners = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    for learner in learners:
        grades = out_dir / f"{learner.name}.json"
        cmd = [sys.executable, "-m", "pytest", "drills", "--impl", str(learner), "--grades", str(grades),
               "-q", "--tb=no", "-p", "no:cacheprovider", *pytest_args]
        subprocess.run(cmd, cwd=REPO_ROOT, check=False)
        if not grades.exists():
            rows.append({"learner": learner.name, "total": 0, "possible": "", "error": "grading did not finish"})
            continue
        summary = json.loads(grades.read_text())
        row = {"learner": learner.name, "total": summary["earned"], "possible": summary["possible"], "error": ""}
        row.update({drill: info["earned"] for drill, info in summary["drills"].items()})
        rows.append(row)
    table = out_dir / "class.csv"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return table
