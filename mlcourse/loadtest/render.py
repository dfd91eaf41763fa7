"""The load test's table, plot and report files, through the course's one report writer."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from mlcourse.loadtest.measure import MIN_OK_SHARE, Run
from mlcourse.reports import new_figure, write_report

HEADER = (
    f"{'rate/s':>7} {'sent':>6} {'200':>6} {'429':>6} {'other':>6} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'batch':>6}"
)


def format_row(run: Run) -> str:
    r = run.result
    p = r.percentiles_ms()
    other = r.sent - r.status.count(200) - r.status.count(429)
    return (
        f"{r.rate:>7.0f} {r.sent:>6} {r.status.count(200):>6} {r.status.count(429):>6} {other:>6} "
        f"{p['p50']:>7.1f} {p['p95']:>7.1f} {p['p99']:>7.1f} {run.mean_batch:>6.1f}"
    )


def markdown(
    config: dict[str, object], runs: list[Run], sustainable: float | None, overload: Run | None, p99_ms: float
) -> str:
    lines = [
        f"Implementation `{config['impl']}`, model `{config['model']}`, open-loop, {config['duration_s']} s per rate.",
        "Latencies of the 200 answers, counted from each request's scheduled send time.",
        "",
        "| rate/s | sent | 200 | 429 | other | p50 ms | p95 ms | p99 ms | mean batch |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs + ([overload] if overload else []):
        lines.append("| " + " | ".join(format_row(run).split()) + " |")
    lines.append("")
    if len(runs) > 1 or overload:
        if sustainable is None:
            lines.append(f"No rate kept p99 under {p99_ms:.0f} ms with {MIN_OK_SHARE:.0%} answered 200.")
        else:
            lines.append(
                f"Highest sustainable rate (p99 < {p99_ms:.0f} ms, >= {MIN_OK_SHARE:.0%} answered 200): "
                f"**{sustainable:.0f} requests/s**."
            )
        if overload:
            over = overload.result
            lines.append(
                f"At twice that rate ({over.rate:.0f}/s): {over.share(429):.1%} answered 429; "
                f"p99 of the accepted: {over.percentiles_ms()['p99']:.0f} ms."
            )
    return "\n".join(lines)


def plot(runs: list[Run], overload: Run | None, p99_ms: float) -> Figure:
    shown = runs + ([overload] if overload else [])
    figure, axes = new_figure(2 if len(shown) > 1 else 1, width=6 if len(shown) > 1 else 7)
    last = shown[-1].result
    ax = axes[0]
    for code, color in ((200, "tab:blue"), (429, "tab:orange")):
        points = [(d, lat * 1000) for d, lat, s in zip(last.due_s, last.latency_s, last.status) if s == code]
        if points:
            ax.scatter(*zip(*points), s=4, color=color, label=str(code))
    ax.axhline(p99_ms, color="tab:red", linestyle="--", linewidth=1, label=f"{p99_ms:.0f} ms")
    ax.set(
        title=f"latency over time at {last.rate:.0f} requests/s",
        xlabel="scheduled send time (s)",
        ylabel="latency (ms)",
    )
    ax.legend(loc="upper left")
    if len(shown) > 1:
        ax = axes[1]
        rates = [run.result.rate for run in shown]
        for key in ("p50", "p95", "p99"):
            ax.plot(rates, [run.result.percentiles_ms()[key] for run in shown], marker="o", label=key)
        ax.axhline(p99_ms, color="tab:red", linestyle="--", linewidth=1)
        ax.set(title="latency of the 200s by offered rate", xlabel="requests/s", ylabel="ms", yscale="log")
        share = ax.twinx()
        shares = [100 * run.result.share(429) for run in shown]
        share.bar(rates, shares, width=max(rates) / 40, alpha=0.3, color="tab:orange")
        share.set_ylabel("429 share (%)")
        ax.legend(loc="upper left")
    return figure


def write(
    out_dir: Path,
    config: dict[str, object],
    runs: list[Run],
    sustainable: float | None,
    overload: Run | None,
    p99_ms: float,
) -> dict[str, Path]:
    """report.json (every figure), report.md (the table) and report.png."""
    data = {
        "config": config,
        "p99_target_ms": p99_ms,
        "runs": [run.row() for run in runs],
        "sustainable_rate": sustainable,
        "overload": overload.row() if overload else None,
    }
    return write_report(
        out_dir,
        title="Load test: POST /api/sentiment",
        markdown=markdown(config, runs, sustainable, overload, p99_ms),
        data=data,
        figure=plot(runs, overload, p99_ms),
    )
