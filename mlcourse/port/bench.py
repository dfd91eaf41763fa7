"""Round trips per second through drill d4's port server, and what a worker restart costs.

    python -m mlcourse.port.bench --impl solutions [--requests 3000] [--restarts 5] [--out build/port_bench]

The model is trivial on purpose (one feature, three classes: microseconds in
process), so the figures measure the process boundary: framing, msgpack, two
pipes, the event loop and the worker's read loop. Round trips are timed with
1, 8, 64 and 512 requests in flight (1 is one at a time; more is pipelined), then
the worker is SIGKILLed a few times and the time from its death to the next
answered request is recorded. Every phase is bounded in count and in time.
Writes report.md, report.json and report.png (throughput against requests in
flight) to the output folder.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mlcourse.impl import Drill, exit_unless_finished, load_drill, reference_impl
from mlcourse.paths import BUILD_DIR
from mlcourse.port.errors import WorkerCrashed
from mlcourse.port.penguin_model import LogisticModel, save_model
from mlcourse.reports import new_figure, write_report

DRILL = "d4_port_server"
DEFAULT_OUT = BUILD_DIR / "port_bench"
IN_FLIGHT = (1, 8, 64, 512)
FEATURES = [0.5]


def trivial_model() -> LogisticModel:
    """One feature, three classes, no training: the cheapest model the worker can load."""
    return LogisticModel(
        features=("x",),
        classes=("low", "mid", "high"),
        mean=np.zeros(1),
        scale=np.ones(1),
        coef=np.array([[-1.0], [0.0], [1.0]]),
        intercept=np.zeros(3),
        metrics={},
    )


def in_process_us(model: LogisticModel, calls: int = 2000) -> float:
    """Microseconds per prediction without any boundary, for comparison."""
    start = time.perf_counter()
    for _ in range(calls):
        model.predict(FEATURES)
    return (time.perf_counter() - start) / calls * 1e6


async def round_trips(server: Any, in_flight: int, requests: int, max_seconds: float) -> dict[str, float]:
    """``in_flight`` callers, each sending its next request when its last one is answered."""
    sent = 0
    deadline = time.perf_counter() + max_seconds

    async def caller() -> None:
        nonlocal sent
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            await server.predict(FEATURES, timeout=10.0)

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    seconds = time.perf_counter() - start
    return {"in_flight": in_flight, "requests": sent, "seconds": seconds, "round_trips_per_s": sent / seconds}


async def restart_times(server: Any, samples: int, max_seconds: float) -> list[float]:
    """Seconds from SIGKILL of the worker to the next answered request, ``samples`` times."""
    times: list[float] = []
    deadline = time.perf_counter() + max_seconds
    while len(times) < samples and time.perf_counter() < deadline:
        await server.predict(FEATURES, timeout=10.0)  # a worker is up and has answered
        os.kill(server.worker_pid, signal.SIGKILL)
        killed_at = time.perf_counter()
        while True:
            try:
                await server.predict(FEATURES, timeout=10.0)
                break
            except WorkerCrashed:  # sent to the dying worker before its death was noticed
                if time.perf_counter() > deadline:
                    raise
        times.append(time.perf_counter() - killed_at)
    return times


async def measure(drill: Drill, model_path: Path, requests: int, restarts: int, max_seconds: float) -> dict[str, Any]:
    supervisor = drill.module("supervisor")
    server = supervisor.PortServer(model_path, max_restarts=restarts + 1, restart_window=60.0, env=drill.env())
    await server.start()
    try:
        await server.predict(FEATURES, timeout=10.0)  # warm up: the worker has started and loaded the model
        phases = []
        for in_flight in IN_FLIGHT:
            phases.append(await round_trips(server, in_flight, requests, max_seconds))
            print(f"  {in_flight:>4} in flight: {phases[-1]['round_trips_per_s']:>8.0f} round trips/s", flush=True)
        restart_s = await restart_times(server, restarts, max_seconds)
    finally:
        await server.stop()
    return {"round_trips": phases, "restart_s": restart_s}


def summarise(result: dict[str, Any], impl: str, in_process: float) -> dict[str, Any]:
    by_flight = {phase["in_flight"]: phase["round_trips_per_s"] for phase in result["round_trips"]}
    restart_s = result["restart_s"]
    return {
        "impl": impl,
        "model": "trivial logistic model, 1 feature, 3 classes",
        "in_process_predict_us": round(in_process, 2),
        "sequential_round_trips_per_s": round(by_flight[1], 1),
        "pipelined_round_trips_per_s": round(max(by_flight.values()), 1),
        "round_trips": result["round_trips"],
        "restart_samples_s": restart_s,
        "restart_median_ms": round(statistics.median(restart_s) * 1e3, 1) if restart_s else None,
        "restart_max_ms": round(max(restart_s) * 1e3, 1) if restart_s else None,
    }


def markdown(report: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {p['in_flight']} | {p['requests']} | {p['seconds']:.2f} | {p['round_trips_per_s']:.0f} "
        f"| {1e6 / p['round_trips_per_s'] * p['in_flight']:.0f} |"
        for p in report["round_trips"]
    )
    return (
        "| requests in flight | requests | seconds | round trips/s | mean latency (µs) |\n"
        "|---:|---:|---:|---:|---:|\n"
        f"{rows}\n\n"
        f"- one at a time: **{report['sequential_round_trips_per_s']:.0f} round trips/s**; "
        f"pipelined: **{report['pipelined_round_trips_per_s']:.0f} round trips/s**; "
        f"the same prediction in process: {report['in_process_predict_us']:.1f} µs\n"
        f"- worker SIGKILLed -> next answered request: median **{report['restart_median_ms']} ms**, "
        f"max {report['restart_max_ms']} ms ({len(report['restart_samples_s'])} restarts)\n"
        f"- {report['model']}\n"
    )


def plot(report: dict[str, Any]) -> Figure:
    figure, (axes,) = new_figure()
    phases = report["round_trips"]
    axes.plot([p["in_flight"] for p in phases], [p["round_trips_per_s"] for p in phases], marker="o")
    axes.set(
        xscale="log",
        xlabel="requests in flight",
        ylabel="round trips per second",
        title=f"d4 port server ({report['impl']}): round trips vs requests in flight",
    )
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.port.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--impl",
        default=reference_impl(),
        help="drills, solutions or a submission folder (default: solutions, or drills in the learners' bundle)",
    )
    parser.add_argument("--requests", type=int, default=3000, help="round trips per in-flight level")
    parser.add_argument("--restarts", type=int, default=5, help="worker kills to time")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="time limit of each phase")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    drill = load_drill(exit_unless_finished(args.impl, DRILL, needed_by="python -m mlcourse.port.bench"), DRILL)
    drill_log = logging.getLogger(drill.package)
    level = drill_log.level
    drill_log.setLevel(logging.ERROR)  # restarts are the point here, not news (for this run only: main runs in tests)
    model_path = save_model(trivial_model(), args.out / "trivial-model.json")
    print(f"d4 port server ({args.impl}): {args.requests} requests per level, {args.restarts} restarts")
    try:
        result = asyncio.run(measure(drill, model_path, args.requests, args.restarts, args.max_seconds))
    finally:
        drill_log.setLevel(level)
    report = summarise(result, args.impl, in_process_us(trivial_model()))
    paths = write_report(
        args.out,
        title="d4: port server round trips and restart time",
        markdown=markdown(report),
        data=report,
        figure=plot(report),
    )
    print(markdown(report))
    print(f"written: {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
