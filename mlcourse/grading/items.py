"""Item analysis beside ``class.csv``: a row per learner and check, and a per-check summary an instructor can act on.

``items.csv`` is appended with each learner's rows as that learner is graded (before its
``class.csv`` row, so a grader that dies in between leaves rows that the next run drops and
redoes). ``summary.md`` and ``summary.png`` are drawn from it after every run: per check, the
share of learners who passed, the median of each measured figure and the most common reason for
a 0; per drill, how the learners' points spread.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from mlcourse.grading.crosscheck import DrillVerdict
from mlcourse.grading.gradebook import Metric, metric_text
from mlcourse.reports import new_figure

ITEM_COLUMNS = ("learner", "drill", "check", "points", "possible", "passed", "metrics", "reason")
ITEMS_FILE, SUMMARY_FILE, SUMMARY_PLOT = "items.csv", "summary.md", "summary.png"


@dataclass(frozen=True)
class CheckSummary:
    """One check over the class: how many learners, the share who passed, median figures, the commonest 0."""

    drill: str
    check: str
    learners: int
    passed: float
    medians: dict[str, Metric]
    failure: str  # the most common reason for a 0 ("" when everyone passed)
    failure_count: int


@dataclass(frozen=True)
class DrillSpread:
    """One drill over the class: each learner's points and the drill's possible points."""

    earned: dict[str, int]
    possible: int


def item_rows(learner: str, verdicts: list[DrillVerdict]) -> list[dict[str, str]]:
    """One row per check: points only when the check passed and its drill was not forced to 0, else why not."""
    rows = []
    for verdict in verdicts:
        for check in verdict.checks:
            passed = bool(check.passed) and not verdict.reason
            reason = "" if passed else verdict.reason or check.message or "failed"
            rows.append(
                {
                    "learner": learner,
                    "drill": verdict.drill,
                    "check": check.name,
                    "points": str(check.points if passed else 0),
                    "possible": str(check.points),
                    "passed": "yes" if passed else "no",
                    "metrics": json.dumps(check.metrics, sort_keys=True),
                    "reason": reason,
                }
            )
    return rows


def append_items(path: Path, rows: list[dict[str, str]]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ITEM_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def read_items(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def keep_learners(path: Path, learners: set[str]) -> None:
    """Drop the rows of learners without a ``class.csv`` row (a grader that died between the two writes)."""
    rows = read_items(path)
    kept = [row for row in rows if row["learner"] in learners]
    if len(kept) == len(rows):
        return
    path.unlink()
    if kept:
        append_items(path, kept)


def median_metrics(rows: list[dict[str, str]]) -> dict[str, Metric]:
    """Each measured figure's median over the learners that reported it (numbers only)."""
    values: dict[str, list[float]] = defaultdict(list)
    units: dict[str, str] = {}
    for row in rows:
        for name, metric in json.loads(row["metrics"] or "{}").items():
            if isinstance(metric.get("value"), float | int):
                values[name].append(float(metric["value"]))
                units[name] = str(metric.get("unit", ""))
    return {name: {"value": statistics.median(found), "unit": units[name]} for name, found in sorted(values.items())}


def check_summaries(items: list[dict[str, str]]) -> list[CheckSummary]:
    """Per check, in drill order: learners, share passed, medians of its figures, the most common reason for a 0."""
    by_check: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in items:
        by_check[(row["drill"], row["check"])].append(row)
    summaries = []
    for (drill, check), rows in sorted(by_check.items()):
        reasons = Counter(row["reason"] for row in rows if row["passed"] != "yes")
        common, times = reasons.most_common(1)[0] if reasons else ("", 0)
        passed = sum(row["passed"] == "yes" for row in rows) / len(rows)
        summaries.append(CheckSummary(drill, check, len(rows), passed, median_metrics(rows), common, times))
    return summaries


def drill_points(items: list[dict[str, str]]) -> dict[str, DrillSpread]:
    """Per drill, the points each learner earned and the drill's possible points."""
    earned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    possible: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in items:
        earned[row["drill"]][row["learner"]] += int(row["points"])
        possible[row["drill"]][row["learner"]] += int(row["possible"])
    return {drill: DrillSpread(dict(earned[drill]), max(possible[drill].values())) for drill in sorted(earned)}


def cell(text: str) -> str:
    """Text safe in one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ").strip()


def summary_markdown(items: list[dict[str, str]]) -> str:
    checks, drills = check_summaries(items), drill_points(items)
    learners = len({row["learner"] for row in items})
    lines = [
        "# Class summary",
        "",
        (
            f"{learners} learners, {len(checks)} checks. Per learner and check: "
            f"`{ITEMS_FILE}`; per learner: `class.csv`; the plot: `{SUMMARY_PLOT}`."
        ),
        "",
        "## Per check",
        "",
        "| drill | check | passed | median figures | most common reason for a 0 |",
        "|---|---|---|---|---|",
    ]
    for summary in checks:
        medians = "; ".join(f"{name} = {metric_text(metric)}" for name, metric in summary.medians.items())
        failure = f"{summary.failure} ({summary.failure_count}×)" if summary.failure else ""
        lines.append(
            f"| {summary.drill} | {cell(summary.check)} | {summary.passed:.0%} of {summary.learners} | "
            f"{cell(medians)} | {cell(failure)} |"
        )
    lines += [
        "",
        "## Per drill: points and how many learners earned them",
        "",
        "| drill | possible | median | points: learners |",
        "|---|---|---|---|",
    ]
    for drill, info in drills.items():
        earned = list(info.earned.values())
        spread = ", ".join(f"{points}: {count}" for points, count in sorted(Counter(earned).items()))
        lines.append(f"| {drill} | {info.possible} | {statistics.median(earned):g} | {spread} |")
    return "\n".join(lines) + "\n"


def draw_summary(items: list[dict[str, str]], path: Path) -> None:
    """Left: the share of learners who passed each check. Right: each learner's points per drill, as a share."""
    checks, drills = check_summaries(items), drill_points(items)
    figure, (left, right) = new_figure(2, width=6.5, height=max(3.0, 0.28 * len(checks) + 1.2))
    labels = [f"{s.drill.split('_')[0]} {s.check}"[:60] for s in checks]
    left.barh(range(len(checks)), [s.passed for s in checks], color="tab:blue")
    left.set_yticks(range(len(checks)), labels, fontsize=7)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("share of learners who passed")
    left.set_title("per check")
    for position, info in enumerate(drills.values()):
        shares = [points / info.possible if info.possible else 0 for points in info.earned.values()]
        counts = Counter(round(share, 3) for share in shares)
        right.scatter(
            [position] * len(counts),
            list(counts),
            s=[30 + 30 * n for n in counts.values()],
            color="tab:orange",
            alpha=0.7,
        )
    right.set_xticks(range(len(drills)), [d.split("_")[0] for d in drills])
    right.set_xlim(-0.5, len(drills) - 0.5)
    right.set_ylim(-0.05, 1.05)
    right.set_ylabel("points earned / possible (dot size: learners)")
    right.set_title("points per drill")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_item_analysis(out_dir: Path) -> list[Path]:
    """``summary.md`` and ``summary.png`` from ``items.csv``; nothing when no learner was graded."""
    items = read_items(out_dir / ITEMS_FILE)
    if not items:
        return []
    (out_dir / SUMMARY_FILE).write_text(summary_markdown(items))
    draw_summary(items, out_dir / SUMMARY_PLOT)
    return [out_dir / SUMMARY_FILE, out_dir / SUMMARY_PLOT]
