"""The proof's report: a table at the focus rate, one-line verdicts, and three plots."""

from __future__ import annotations

from pathlib import Path

from mlcourse.reports import new_figure, write_report

SATURATED = 0.9  # a queue this close to its limit is full


def run_at(runs: list[dict], rate: float) -> dict | None:
    return next((run for run in runs if run["rate"] == rate), None)


def verdicts(data: dict) -> list[str]:
    """ "at R req/s batching cut p99 from X to Y ms"; "the queue reaches its limit at R req/s, 429s begin at R"."""
    lines = []
    policies = data["policies"]
    unbatched = policies.get("none")
    for name, policy in policies.items():
        if name == "none" or unbatched is None:
            continue
        low, high = unbatched["capacity"]["rate"] or 0.0, policy["capacity"]["rate"] or 0.0
        between = [r for r in data["rates"] if low < r <= high] or [data["config"]["focus_rate"]]
        rate = between[-1]
        before, after = run_at(unbatched["runs"], rate), run_at(policy["runs"], rate)
        assert before is not None and after is not None, f"every policy runs every swept rate, {rate:g} too"
        lines.append(
            f"at {rate:g} req/s {name} batching cut p99 from {before['p99_ms']:.0f} to {after['p99_ms']:.0f} ms"
        )
    for name, policy in policies.items():
        limit = policy["queue_limit"] or 0
        full = next((r["rate"] for r in policy["runs"] if limit and r["max_depth"] >= SATURATED * limit), None)
        shed = next((r["rate"] for r in policy["runs"] if r["share_429"] > 0), None)
        lines.append(
            f"{name}: the queue reaches its limit ({limit}) at "
            f"{'no rate tried' if full is None else f'{full:g} req/s'}, 429s begin at "
            f"{'no rate tried' if shed is None else f'{shed:g} req/s'}"
        )
    return lines


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
