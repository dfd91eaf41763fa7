"""The proof's report: a table at the focus rate, one-line verdicts, and three plots."""

from __future__ import annotations

from pathlib import Path

from mlcourse.reports import new_figure, write_report

SATURATED = 0.9  # a queue this close to its limit is full


def run_at(runs: list[dict], rate: float) -> dict | None:
    return next((run for run in runs if run["rate"] == rate), None)


def verdicts(data: dict) -> list[str]:
    """ "at R req/s batching cut p99 from X to Y ms"; "the queue reaches its limit at R req/s, 429s begin at R"."""
    raise NotImplementedError(
        "'at R req/s <policy> batching cut p99 from X to Y ms' for a rate between the capacities; "
        "'<policy>: the queue reaches its limit (L) at R req/s, 429s begin at R req/s'"
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
        "new_figure(3): p50/p99 by offered rate per policy, queue depth over time at the highest rate, "
        "429 share by rate; then write_report(out_dir, title=, markdown=markdown(data), data=data, "
        "figure=)"
    )
