"""The proof's report: a table at the focus rate, one-line verdicts, and three plots."""

from __future__ import annotations

from pathlib import Path

from mlcourse.reports import new_figure, write_report

SATURATED = 0.9  # a run whose max_depth reaches this share of the queue limit filled the queue


def run_at(runs: list[dict], rate: float) -> dict | None:
    return next((run for run in runs if run["rate"] == rate), None)


def _batching_verdict(data: dict, name: str) -> str:
    """At the highest swept rate above the unbatched capacity and at most ``name``'s (else the focus rate)."""
    unbatched, policy = data["policies"]["none"], data["policies"][name]
    low, high = unbatched["capacity"]["rate"] or 0.0, policy["capacity"]["rate"] or 0.0
    rate = max((r for r in data["rates"] if low < r <= high), default=data["config"]["focus_rate"])
    before, after = run_at(unbatched["runs"], rate), run_at(policy["runs"], rate)
    assert before is not None and after is not None, f"every policy runs every swept rate, {rate:g} too"
    figures = f"{before['p99_ms']:.0f} to {after['p99_ms']:.0f} ms"
    if after["p99_ms"] < before["p99_ms"]:
        return f"at {rate:g} req/s {name} batching cut p99 from {figures}"
    return f"at {rate:g} req/s {name} batching did not cut p99: {figures}"


def _saturation_verdict(name: str, policy: dict) -> str:
    """Where the queue first reached its limit and where 429s began, or that neither happened."""
    limit, runs = policy["queue_limit"], policy["runs"]
    full = next((r["rate"] for r in runs if r["max_depth"] >= SATURATED * limit), None)
    shed = next((r["rate"] for r in runs if r["share_429"] > 0), None)
    if full is None and shed is None:
        return f"{name}: never saturated up to {runs[-1]['rate']:g} req/s (queue limit {limit})"
    full_at, shed_at = ("no swept rate" if r is None else f"{r:g} req/s" for r in (full, shed))
    return f"{name}: the queue reaches its limit ({limit}) at {full_at}, 429s begin at {shed_at}"


def verdicts(data: dict) -> list[str]:
    """One batching verdict per batched policy (when "none" ran too), then one saturation verdict per policy."""
    batched = [name for name in data["policies"] if name != "none"] if "none" in data["policies"] else []
    return [_batching_verdict(data, name) for name in batched] + [
        _saturation_verdict(name, policy) for name, policy in data["policies"].items()
    ]


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
    figure, (latency, depth, shed) = new_figure(3, width=5.0)
    for name, policy in data["policies"].items():
        runs = policy["runs"]
        rates = [run["rate"] for run in runs]
        line = latency.plot(rates, [run["p99_ms"] for run in runs], marker="o", label=f"{name} p99")
        latency.plot(rates, [run["p50_ms"] for run in runs], linestyle=":", color=line[0].get_color())
        overload = runs[-1]
        depth.plot([t for t, _ in overload["depth"]], [d for _, d in overload["depth"]], label=f"{name}")
        shed.plot(rates, [100 * run["share_429"] for run in runs], marker="o", label=name)
    latency.axhline(data["config"]["slo_p99_ms"], color="tab:red", linestyle="--", linewidth=1)
    latency.set(
        title="latency by offered load (p99 solid, p50 dotted)", xlabel="offered req/s", ylabel="ms", yscale="log"
    )
    depth.set(title=f"queue depth at {data['rates'][-1]:g} req/s", xlabel="s into the run", ylabel="waiting requests")
    shed.set(title="share answered 429", xlabel="offered req/s", ylabel="%")
    for axes in (latency, depth, shed):
        axes.legend(fontsize=8)
    return write_report(
        out_dir,
        title="Backpressure proof: batching before and after",
        markdown=markdown(data),
        data=data,
        figure=figure,
    )
