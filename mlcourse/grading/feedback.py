"""What a learner reads back: one Markdown file per learner, and the class CSV row beside it."""

from __future__ import annotations

from pathlib import Path

from mlcourse.grading.crosscheck import DrillVerdict
from mlcourse.grading.gradebook import metric_text


def class_row(learner: str, verdicts: list[DrillVerdict], isolation: str, seconds: float) -> dict[str, object]:
    """One sortable CSV row: totals, points per drill, and every reason a drill was forced to 0."""
    row: dict[str, object] = {
        "learner": learner,
        "total": sum(v.earned for v in verdicts),
        "possible": sum(v.possible for v in verdicts),
        "status": "needs review" if any(v.needs_review for v in verdicts) else "graded",
    }
    row.update({v.drill: v.earned for v in verdicts})
    row["reasons"] = "; ".join(f"{v.drill}: {v.reason}" for v in verdicts if v.reason)
    row["isolation"] = isolation
    row["seconds"] = round(seconds, 1)
    return row


def feedback_markdown(learner: str, verdicts: list[DrillVerdict], isolation: str) -> str:
    """Each drill's points, the reason for any 0, each failed check's message and the measured figures."""
    total, possible = sum(v.earned for v in verdicts), sum(v.possible for v in verdicts)
    lines = [f"# Feedback for {learner}", "", f"**{total}/{possible} points.** Isolation: {isolation}.", ""]
    for verdict in verdicts:
        lines += [f"## {verdict.drill}: {verdict.earned}/{verdict.possible}", ""]
        if verdict.reason:
            lines += [f"**Scored 0: {verdict.reason}.**", ""]
        failed = [c for c in verdict.checks if not c.passed and c.message]
        for check in failed:
            lines.append(f"- ✗ {check.description.rstrip('.')} ({check.points} pt): {check.message}")
        figures = [
            f"- {c.name}: {name} = {metric_text(metric)}" for c in verdict.checks for name, metric in c.metrics.items()
        ]
        if failed:
            lines.append("")
        if figures:
            lines += ["Measured:", "", *figures, ""]
        if not verdict.reason and not failed:
            lines += ["Every check passed.", ""]
    return "\n".join(lines)


def write_feedback(out_dir: Path, learner: str, verdicts: list[DrillVerdict], isolation: str) -> Path:
    path = out_dir / "feedback" / f"{learner}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feedback_markdown(learner, verdicts, isolation))
    return path
