"""The proof's report: a table at the focus rate, one-line verdicts, and three plots."""

from __future__ import annotations

from pathlib import Path

from mlcourse.reports import new_figure, write_report

SATURATED = 0.9  # a run whose max_depth reaches this share of the queue limit filled the queue


def run_at(runs: list[dict], rate: float) -> dict | None:
    return next((run for run in runs if run["rate"] == rate), None)


def verdicts(data: dict) -> list[str]:
    """The README's verdicts: one batching verdict per batched policy, one saturation verdict per policy."""
    raise NotImplementedError(
        "The README's verdicts, every figure read from the runs: where batching cut p99 or did not, where each "
        "queue reached its limit and 429s began ('no swept rate'), or 'never saturated'. "
        "Taught in notebook 07, section 6; stuck: README.md, Hints."
    )


def markdown(data: dict) -> str:
    focus = data["config"]["focus_rate"]
    lines = [
        (
            f"Model `{data['config']['model']}`, open-loop load, latency of the 200s counted from each request's "
            f"scheduled send time; capacity: highest rate with p99 < {data['config']['slo_p99_ms']:g} ms and no 429."
        ),
        "",
        f"| policy | p50 ms @{focus:g}/s | p95 ms | p99 ms | capacity req/s | 429 share at 2x capacity |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, policy in data["policies"].items():
        at = run_at(policy["runs"], focus) or {}
        capacity = policy["capacity"]["rate"]
        over = run_at(policy["runs"], round(2 * capacity, 1)) if capacity else None
        lines.append(
            f"| {name} | {at.get('p50_ms', float('nan')):.1f} | {at.get('p95_ms', float('nan')):.1f} | "
            f"{at.get('p99_ms', float('nan')):.1f} | {f'{capacity:.1f}' if capacity else 'none'} | "
            f"{'n/a' if over is None else format(over['share_429'], '.1%')} |"
        )
    lines += [
        "",
        *(f"- {line}" for line in data["verdicts"]),
        "",
        "Runs whose `max_send_lag_ms` is large were paced by the generator, not the server (report.json).",
    ]
    return "\n".join(lines)


def write_proof_report(out_dir: Path, data: dict) -> dict[str, Path]:
    """report.md, report.json and report.png (latency by offered load, queue depth at overload, 429 share)."""
    raise NotImplementedError(
        "report.md (markdown(data)), report.json (data) and report.png with three plots: latency by offered load "
        "per policy, queue depth over time at the highest rate, 429 share by rate. "
        "Taught in notebook 07, section 9; stuck: README.md, Hints."
    )
