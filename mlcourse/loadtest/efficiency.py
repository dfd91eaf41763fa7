"""Serving efficiency: the d1 server's capacity against its own model's offline throughput, in one run.

    python -m mlcourse.loadtest.efficiency [--impl solutions] [--batching window] [--threads N] [--profile]

Three figures, measured one after the other on the same machine:

1. the **generator's ceiling**: the highest open-loop rate it keeps on schedule against an endpoint
   that answers at once. A capacity is only a finding if the ceiling is at least twice as high;
2. the model's **offline throughput**: ``predict_batch`` on full batches of distinct texts, with the
   server's batch size and torch threads, in this process with nothing else running;
3. the server's **capacity**: the 200s per second it answers while ``concurrency`` clients (four
   batches' worth) keep its queue full, so the model never waits for work.

Capacity over offline throughput is what HTTP, JSON, the event loop and the batcher cost. With
``--profile``, py-spy samples the server during the capacity run and the report says how the
samples split between the model's thread and the event loop's. Writes report.md/.json/.png.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from mlcourse.api.contract import MAX_BATCH_SIZE
from mlcourse.api.models import default_threads
from mlcourse.api.process import served
from mlcourse.impl import exit_unless_finished, reference_impl
from mlcourse.loadtest.ceiling import generator_ceiling
from mlcourse.loadtest.closed_loop import run_closed_loop
from mlcourse.loadtest.generator import SAMPLE_TEXTS, distinct_text, loopback_client, open_connections, sentiment_sender
from mlcourse.loadtest.measure import batch_sizes, batches_between, mean_batch
from mlcourse.paths import BUILD_DIR
from mlcourse.reports import new_figure, write_report

CEILING_RATES = [200.0, 400.0, 800.0, 1600.0, 3200.0]
BATCH_SIZE = MAX_BATCH_SIZE  # the server's batch size: d1's default max_batch_size
GOAL = 0.8  # capacity at least 80 % of offline throughput


def offline_throughput(model: str | None, threads: int, batch_size: int, seconds: float) -> float:
    """Texts per second of ``predict_batch`` on full batches of distinct texts (one warm-up batch first)."""
    from mlcourse.sentiment import load_serving

    serving = load_serving(model, num_threads=threads, int8=True)
    serving.predict_batch([distinct_text(SAMPLE_TEXTS, i) for i in range(batch_size)])
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        serving.predict_batch([distinct_text(SAMPLE_TEXTS, done + i) for i in range(batch_size)])
        done += batch_size
    return done / (time.perf_counter() - started)


async def saturate(base_url: str, concurrency: int, duration_s: float) -> dict[str, Any]:
    """Closed-loop clients with no rate cap: the queue never empties, so 200s per second is the capacity.

    A closed loop is the right tool here and only here: it measures throughput at saturation, not
    latency (notebook 07's coordinated omission)."""
    async with loopback_client(base_url) as client:
        await open_connections(client, concurrency)
        result = await run_closed_loop(
            sentiment_sender(client), rate=1e9, duration_s=duration_s, concurrency=concurrency
        )
    return {
        "capacity": round(result.status.count(200) / result.wall_s, 1),
        "statuses": result.status_counts(),
        "sent": result.sent,
        "wall_s": round(result.wall_s, 2),
    }


def start_profile(pid: int, seconds: float, out_path: Path) -> subprocess.Popen:
    """py-spy, sampling every thread of ``pid`` for ``seconds`` into collapsed stacks (``out_path``)."""
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--threads",
            "--nonblocking",
            "--output",
            str(out_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile_shares(collapsed: Path) -> dict[str, float]:
    """Share of busy samples in the model call, in HTTP/app work on the event loop, and elsewhere."""
    counts: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        kind = (
            "model (predict_batch)"
            if "predict_batch" in stack
            else "event loop (HTTP, JSON, batcher)"
            if "MainThread" in stack.split(";")[0]
            else "other"
        )
        counts[kind] += int(n)
    total = sum(counts.values()) or 1
    return {kind: round(n / total, 3) for kind, n in counts.most_common()}


def run(
    impl: str, batching: str, threads: int, duration_s: float, out_dir: Path, profile: bool, model: str | None = None
) -> dict[str, Any]:
    print("1/3 the generator's ceiling against an endpoint that answers at once", flush=True)
    ceiling, ceiling_runs = asyncio.run(generator_ceiling(CEILING_RATES, duration_s=2.0))
    print(
        f"    kept up to {ceiling} req/s\n2/3 the model offline, batches of {BATCH_SIZE}, {threads} thread(s)",
        flush=True,
    )
    offline = offline_throughput(model, threads, BATCH_SIZE, duration_s)
    print(f"    {offline:.1f} texts/s\n3/3 the server saturated ({batching} batching)", flush=True)
    concurrency = 4 * BATCH_SIZE
    with served(
        impl,
        model=model,
        batching=batching,
        threads=threads,
        queue_limit=10 * concurrency,
        log_path=out_dir / "server.log",
    ) as served_api:
        asyncio.run(saturate(served_api.url, concurrency, 2.0))  # warm-up, discarded
        before = batch_sizes(served_api.url)
        profiler = start_profile(served_api.pid, duration_s, out_dir / "profile.txt") if profile else None
        server = asyncio.run(saturate(served_api.url, concurrency, duration_s))
        after = batch_sizes(served_api.url)
        if profiler is not None:
            profiler.wait(timeout=duration_s + 30)
    data = {
        "config": {
            "impl": impl,
            "batching": batching,
            "threads": threads,
            "batch_size": BATCH_SIZE,
            "concurrency": concurrency,
            "duration_s": duration_s,
        },
        "generator_ceiling": ceiling,
        "ceiling_runs": [run.row() for run in ceiling_runs],
        "offline_texts_per_s": round(offline, 1),
        "server": server,
        "mean_batch": round(mean_batch(batches_between(before, after)), 2),
        "efficiency": round(server["capacity"] / offline, 3),
        "generator_not_the_limit": bool(ceiling and ceiling >= 2 * server["capacity"]),
    }
    if profile:
        data["profile"] = profile_shares(out_dir / "profile.txt")
    return data


def render(data: dict[str, Any]) -> str:
    server, ceiling = data["server"], data["generator_ceiling"]
    lines = [
        "| figure | value |",
        "|---|---:|",
        f"| generator ceiling (instant endpoint) | {ceiling if ceiling else 'below the lowest rate'} req/s |",
        f"| offline throughput, batches of {BATCH_SIZE} | {data['offline_texts_per_s']} texts/s |",
        f"| server capacity | {server['capacity']} req/s (mean batch {data['mean_batch']}) |",
        f"| capacity / offline | {data['efficiency']:.0%} (goal {GOAL:.0%}) |",
    ]
    verdict = (
        "The generator kept up with at least twice the capacity: the server, not the client, set the pace."
        if data["generator_not_the_limit"]
        else "The generator's ceiling is below twice the capacity: the capacity may be the generator's."
    )
    shares = data.get("profile")
    where = (
        (
            "\n\nWhere the server's busy samples went (py-spy): "
            + ", ".join(f"{kind} {share:.0%}" for kind, share in shares.items())
            + "."
        )
        if shares
        else ""
    )
    return "\n".join(lines) + f"\n\n{verdict}{where}"


def plot(data: dict[str, Any]):
    figure, (axis,) = new_figure(width=6.5, height=3.5)
    names = ["generator ceiling", "offline model", "server capacity"]
    values = [data["generator_ceiling"] or 0, data["offline_texts_per_s"], data["server"]["capacity"]]
    bars = axis.barh(names, values, color=["#999999", "#4477aa", "#ee7733"])
    axis.bar_label(bars, fmt="%.0f", padding=3)
    axis.set_xlim(0, max(values) * 1.15)
    axis.set_xlabel("requests (texts) per second")
    axis.set_title(f"capacity is {data['efficiency']:.0%} of the model's offline throughput")
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlcourse.loadtest.efficiency", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--impl", default=reference_impl(), help="drills, solutions or a folder")
    parser.add_argument("--batching", choices=["window", "adaptive", "none"], default="window")
    parser.add_argument("--threads", type=int, default=default_threads(), help="torch threads, offline and served")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of offline and of saturated load")
    parser.add_argument("--model", default=None, help="a model folder (default: the built offline model)")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy meanwhile")
    parser.add_argument("--out", type=Path, default=BUILD_DIR / "loadtest" / "efficiency")
    args = parser.parse_args(argv)
    exit_unless_finished(args.impl, "d1_sentiment_api", needed_by="python -m mlcourse.loadtest.efficiency")
    args.out.mkdir(parents=True, exist_ok=True)
    data = run(args.impl, args.batching, args.threads, args.duration, args.out, args.profile, args.model)
    markdown = render(data)
    print(markdown)
    write_report(
        args.out,
        title="Serving efficiency: server capacity against offline throughput",
        markdown=markdown,
        data=data,
        figure=plot(data),
    )
    print(f"wrote {args.out}/report.md, report.json, report.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
