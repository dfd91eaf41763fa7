"""Grade book for drill checks: points per drill, a table, JSON, and the starter/solution proof.

The pytest hooks in the root ``conftest.py`` feed a :class:`Gradebook`; this module holds
everything that is not a hook, so the command line (``python -m mlcourse.grading``) can read
the same JSON the harness writes.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlcourse.paths import BUILD_DIR, REPO_ROOT


@dataclass
class Check:
    """One pointed check and what happened to it."""

    nodeid: str
    drill: str
    points: int
    description: str
    passed: bool | None = None  # None: not run (deselected or collection error)
    message: str = ""
    metrics: dict[str, dict[str, float | str]] = field(default_factory=dict)


class Gradebook:
    """Collects pointed checks during a pytest run and renders the result."""

    def __init__(self, impl: str) -> None:
        self.impl = impl
        self.checks: dict[str, Check] = {}

    def add(self, check: Check) -> None:
        self.checks[check.nodeid] = check

    def record_phase(self, nodeid: str, passed: bool, message: str) -> None:
        """A test passes only if setup, call and teardown all pass."""
        check = self.checks.get(nodeid)
        if check is None:
            return
        if not passed:
            check.passed = False
            check.message = check.message or message
        elif check.passed is None:
            check.passed = True

    def record_metric(self, nodeid: str, name: str, value: float, unit: str) -> None:
        if nodeid in self.checks:
            self.checks[nodeid].metrics[name] = {"value": value, "unit": unit}

    def by_drill(self) -> dict[str, list[Check]]:
        grouped: dict[str, list[Check]] = defaultdict(list)
        for check in self.checks.values():
            grouped[check.drill].append(check)
        return dict(sorted(grouped.items()))

    def summary(self) -> dict:
        drills = {}
        for drill, checks in self.by_drill().items():
            drills[drill] = {
                "earned": sum(c.points for c in checks if c.passed),
                "possible": sum(c.points for c in checks),
                "checks": [asdict(c) for c in checks],
            }
        return {
            "impl": self.impl,
            "earned": sum(d["earned"] for d in drills.values()),
            "possible": sum(d["possible"] for d in drills.values()),
            "drills": drills,
        }

    def table_lines(self) -> list[str]:
        summary = self.summary()
        width = max([len("total")] + [len(d) for d in summary["drills"]])
        lines = [f"Points per drill (--impl {self.impl})", f"{'drill':<{width}}  checks  passed  points"]
        for drill, info in summary["drills"].items():
            passed = sum(1 for c in info["checks"] if c["passed"])
            points = f"{info['earned']}/{info['possible']}"
            lines.append(f"{drill:<{width}}  {len(info['checks']):>6}  {passed:>6}  {points:>6}")
        total = f"{summary['earned']}/{summary['possible']}"
        lines.append(f"{'total':<{width}}  {'':>6}  {'':>6}  {total:>6}")
        metrics = [
            f"  {c.nodeid.split('::')[-1]}: {name} = {m['value']:.4g} {m['unit']}".rstrip()
            for c in self.checks.values()
            for name, m in c.metrics.items()
        ]
        if metrics:
            lines += ["Measured:", *metrics]
        return lines

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2) + "\n")


class StarterProofError(AssertionError):
    """The starters and solutions do not bracket the checks as the grading contract demands."""


def verify_bracketing(solutions: dict, starters: dict) -> dict[str, str]:
    """Every pointed check passes on solutions/ and fails on the untouched starters.

    Returns ``{check: problem}``; an empty dict means the contract holds.
    """
    sol = {c["nodeid"]: c for d in solutions["drills"].values() for c in d["checks"]}
    sta = {c["nodeid"]: c for d in starters["drills"].values() for c in d["checks"]}
    problems = {}
    if not sol:
        problems["(all)"] = "no pointed check ran against solutions/"
    for nodeid in sorted(sol.keys() | sta.keys()):
        if nodeid not in sta:
            problems[nodeid] = "not run against the starters"
        elif nodeid not in sol:
            problems[nodeid] = "not run against the solutions"
        elif sol[nodeid]["passed"] is not True:
            problems[nodeid] = f"fails on solutions/: {sol[nodeid]['message'][:300]}"
        elif sta[nodeid]["passed"] is not False:
            problems[nodeid] = "an untouched starter passes it: the check cannot fail"
    return problems


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.grading", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="prove every pointed check passes on solutions and fails on starters")
    verify.add_argument("solutions", type=Path)
    verify.add_argument("starters", type=Path)
    klass = commands.add_parser("class", help="grade every learner folder in SUBMISSIONS, write class.csv")
    klass.add_argument("submissions", type=Path)
    klass.add_argument("--out", type=Path, default=BUILD_DIR / "grades" / "class")
    args, extra = parser.parse_known_args(argv)

    if args.command == "verify":
        solutions = json.loads(args.solutions.read_text())
        starters = json.loads(args.starters.read_text())
        problems = verify_bracketing(solutions, starters)
        held = [c for d in solutions["drills"].values() for c in d["checks"] if c["nodeid"] not in problems]
        for nodeid, problem in problems.items():
            print(f"  {nodeid}: {problem}")
        print(f"starters scored {starters['earned']}/{starters['possible']}, "
              f"solutions {solutions['earned']}/{solutions['possible']}")
        print(f"bracketing: {len(held)} passed, {len(problems)} failed")
        return 1 if problems else 0
    table = grade_class(args.submissions, args.out, extra)
    print(f"class grades written to {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
