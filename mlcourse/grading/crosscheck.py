"""Grade one drill run from channels the submission did not write alone, and refuse when they disagree.

Three channels come out of one pytest run: the grade book's JSON, pytest's JUnit XML and its exit
status. Points come from the course's own list of checks (collected outside the submission's
reach) for the checks that *both* the JUnit XML and the grade book say passed; any disagreement
between the channels gives the drill 0 and a "needs review" with the reason. A run killed for a
limit, or one that left no results, earns 0 with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from mlcourse.grading.gradebook import Check, Metric, failure_message, parse_metric

NEEDS_REVIEW = "needs review"


@dataclass
class DrillVerdict:
    """A drill's points for one learner, and the reason whenever they were forced to 0."""

    drill: str
    earned: int
    possible: int
    reason: str = ""  # empty: graded normally
    checks: list[Check] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return self.reason.startswith(NEEDS_REVIEW)


def junit_outcomes(path: Path) -> tuple[dict[str, tuple[bool, str, dict[str, Metric]]], bool]:
    """``{nodeid: (passed, message, metrics)}`` from pytest's JUnit XML, and whether any test failed."""
    outcomes: dict[str, tuple[bool, str, dict[str, Metric]]] = {}
    root = ElementTree.parse(path).getroot()
    any_failed = any(True for tag in ("failure", "error") for _ in root.iter(tag))
    for case in root.iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        nodeid = f"{classname.replace('.', '/')}.py::{name}"
        problem = next((case.find(tag) for tag in ("failure", "error", "skipped") if case.find(tag) is not None), None)
        message = "" if problem is None else failure_message(problem.get("message") or "") or problem.tag
        figures = {p.get("name", ""): parse_metric(p.get("value", "")) for p in case.iter("property")}
        if nodeid in outcomes:  # a second entry for one test: an error in its teardown
            was_passed, was_message, was_figures = outcomes[nodeid]
            passed, message, figures = was_passed and problem is None, was_message or message, was_figures | figures
        else:
            passed = problem is None
        outcomes[nodeid] = (passed, message, figures)
    return outcomes, any_failed


def zero(drill: str, checks: list[Check], reason: str) -> DrillVerdict:
    return DrillVerdict(drill, 0, sum(c.points for c in checks), reason, checks)


def running_check(expected: list[Check], started: Sequence[str]) -> str:
    """`` in test_...``: the last check the run started (from its started log), or nothing if none did."""
    names = {c.nodeid: c.name for c in expected}
    last = next((nodeid for nodeid in reversed(started) if nodeid), "")
    return f" in {names.get(last, last.split('::')[-1])}" if last else ""


def judge(
    drill: str,
    expected: list[Check],
    results: Path,
    returncode: int,
    killed_for: str,
    log_text: str,
    started: Sequence[str] = (),
) -> DrillVerdict:
    """The drill's verdict from a finished (or killed) run whose outputs are in ``results``.

    ``started`` lists the node ids of the tests the run started, in order: a limit names the last.
    """
    if killed_for:
        return zero(
            drill,
            expected,
            f"{killed_for}{running_check(expected, started)}: the run was stopped and its processes killed",
        )
    if "+++++ Timeout +++++" in log_text:
        return zero(
            drill,
            expected,
            f"time limit{running_check(expected, started)}: a check ran past the "
            "per-check limit and the run was stopped",
        )
    junit, grades = results / "junit.xml", results / "grades.json"
    if not junit.exists() and not grades.exists():
        return zero(drill, expected, f"crash: pytest ended (exit status {returncode}) without writing results")
    try:
        outcomes, any_failed = junit_outcomes(junit)
        book = {c["nodeid"]: c for d in json.loads(grades.read_text())["drills"].values() for c in d["checks"]}
    except (OSError, ValueError, KeyError, TypeError, ElementTree.ParseError) as error:
        return zero(
            drill,
            expected,
            f"{NEEDS_REVIEW}: results missing or unreadable ({type(error).__name__}: "
            f"{error}; exit status {returncode})",
        )
    disagreements = []
    for check in expected:
        junit_passed, message, figures = outcomes.get(check.nodeid, (False, "did not run", {}))
        book_passed = book.get(check.nodeid, {}).get("passed") is True
        check.passed, check.message, check.metrics = junit_passed and book_passed, message, figures
        if junit_passed != book_passed:
            disagreements.append(
                f"{check.name}: JUnit says {'passed' if junit_passed else 'failed'}, the grade book the opposite"
            )
    if returncode != (1 if any_failed else 0):
        disagreements.append(
            f"pytest exited with {returncode} but JUnit reports {'failures' if any_failed else 'no failure'}"
        )
    if disagreements:
        return zero(drill, expected, f"{NEEDS_REVIEW}: the result channels disagree ({'; '.join(disagreements)})")
    earned = sum(c.points for c in expected if c.passed)
    return DrillVerdict(drill, earned, sum(c.points for c in expected), "", expected)
