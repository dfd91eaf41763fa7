"""The grade book: pointed checks, what happened to each, a points table and its JSON.

The pytest hooks in the root ``conftest.py`` feed a :class:`Gradebook`; the JSON it writes is what
the bracketing proof and class grading read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path


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
