"""The grade book: pointed checks, what happened to each, a points table and its JSON.

The pytest hooks (``plugin``) feed a :class:`Gradebook`; the JSON it writes is what the bracketing
proof and class grading read. :class:`Check` is the one record of a check's result, in a pytest
run and in class grading alike.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

Metric = dict[str, float | str]  # {"value": 12.5, "unit": "x"}


@dataclass
class Check:
    """One pointed check and what happened to it: passed, the failure message, the figures it measured."""

    nodeid: str
    drill: str
    points: int
    description: str
    passed: bool | None = None  # None: not run (deselected, collection error, a run stopped before it)
    message: str = ""
    metrics: dict[str, Metric] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The test's own name, ``test_...`` (with its parameters), without its file."""
        return self.nodeid.split("::")[-1]

    def blank(self) -> Check:
        """The same check with no outcome yet."""
        return Check(self.nodeid, self.drill, self.points, self.description)


def metric_text(metric: Metric) -> str:
    """``12.79 x``: four significant digits are what a timing on a shared box carries."""
    value, unit = metric.get("value", ""), metric.get("unit", "")
    shown = f"{value:.4g}" if isinstance(value, float | int) else str(value)
    return f"{shown} {unit}".rstrip()


def parse_metric(text: str) -> Metric:
    """The metric written as ``"VALUE UNIT"`` (a JUnit property) back as ``{"value", "unit"}``."""
    number, _, unit = text.strip().partition(" ")
    try:
        return {"value": float(number), "unit": unit}
    except ValueError:
        return {"value": text, "unit": ""}


def failure_message(exception_text: str) -> str:
    """The check's own sentence from pytest's text of the exception (``AssertionError: msg\\nassert ...``).

    pytest's assert rewriting (the ``assert`` line, its ``+ where`` details) and the bare exception names of a
    failed assert or ``pytest.fail`` would bury what the learner must change; another exception keeps its name.
    """
    lines = []
    for line in exception_text.strip().splitlines():
        if line.startswith("assert "):
            break
        lines.append(line.strip())
    text = " ".join(line for line in lines if line) or exception_text.strip()
    for prefix in ("AssertionError: ", "Failed: "):
        text = text.removeprefix(prefix)
    return text


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
            f"  {c.name}: {name} = {metric_text(m)}" for c in self.checks.values() for name, m in c.metrics.items()
        ]
        if metrics:
            lines += ["Measured:", *metrics]
        return lines

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2) + "\n")
