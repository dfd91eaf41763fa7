"""The hybrid pipeline's figures, too big for the notebook or the checks: one run, one report.

    python -m mlcourse.pipeline.bench [--impl solutions] [--rows 20000] [--memory-rows 1000000] [--url URL] [--fake]

1. REST vs gRPC vs the d4 port on the same trivial model (``compare``).
2. Throughput: d6's command over ``--rows`` rows against the served sentiment API (the real
   model unless ``--fake``; ``--url`` uses one already running, e.g. ``make serve``).
3. Memory: d6's command on a ``--memory-rows`` CSV in front of a slow server (50 ms a request),
   with the queues bounded and unbounded (``--queue-rows 0``), each stopped after
   ``--memory-seconds``; the peak resident memory of the process is read from the kernel.
4. Chaos: d6's command over 2,000 rows against the misbehaving server, graded from its record.

Writes report.md, report.json and report.png to ``--out`` (default build/pipeline_bench).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from mlcourse.api.models import FakeCost
from mlcourse.api.process import served
from mlcourse.drill_commands.d6_hybrid_pipeline import EXIT_OK, EXIT_ROWS_FAILED, probe_api
from mlcourse.impl import Drill, exit_unless_finished, load_drill, reference_impl
from mlcourse.paths import BUILD_DIR
from mlcourse.pipeline.compare import compare, markdown_table
from mlcourse.pipeline.csvgen import write_sentiment_csv
from mlcourse.pipeline.misbehaving import MisbehavingServer, Policy
from mlcourse.reports import new_figure, write_report

DRILL = "d6_hybrid_pipeline"
DEFAULT_OUT = BUILD_DIR / "pipeline_bench"
CHAOS = Policy(p_429=0.05, p_503=0.05, p_slow=0.04, p_drop=0.04, slow_s=0.2, latency_s=0.01, retry_after_s=1)


def run_command(
    drill: Drill, source: Path, url: str, out: Path, *options: str, stop_after_s: float | None = None
) -> dict[str, Any]:
    """Run d6's command; return its JSON summary (None when stopped), exit status and peak memory."""
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", drill.package, str(source), "--url", url, "--out", str(out), *options]
    child = subprocess.Popen(command, env=drill.env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    start = time.perf_counter()
    if stop_after_s is not None:
        try:
            child.wait(stop_after_s)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
    _, status, usage = os.wait4(child.pid, 0)  # the kernel's record of this child: its peak RSS
    seconds = time.perf_counter() - start
    assert child.stdout is not None  # stdout=PIPE
    lines = child.stdout.read().strip().splitlines()
    child.returncode = os.waitstatus_to_exitcode(status)
    summary = json.loads(lines[-1]) if child.returncode in (EXIT_OK, EXIT_ROWS_FAILED) and lines else None
    written = max(0, sum(1 for _ in out.open()) - 1) if out.exists() else 0
    return {
        "summary": summary,
        "exit": child.returncode,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "seconds": round(seconds, 2),
        "rows_written": written,
    }


def throughput(drill: Drill, args: argparse.Namespace) -> dict[str, Any]:
    source = write_sentiment_csv(args.out / "throughput.csv", args.rows)
    with ExitStack() as stack:
        url = args.url or stack.enter_context(served(args.impl, fake=FakeCost() if args.fake else None)).url
        result = run_command(drill, source, url, args.out / "throughput-out.csv", "--concurrency", "32")
    summary = result["summary"] or {}
    return {
        **result,
        "rows": args.rows,
        "model": "fake" if args.fake else "real (d1 reference server)",
        "rows_per_s": summary.get("rows_per_s"),
    }


def memory(drill: Drill, args: argparse.Namespace) -> list[dict[str, Any]]:
    source = args.out / f"memory-{args.memory_rows}.csv"
    if not source.exists():
        write_sentiment_csv(source, args.memory_rows)
    rows = []
    with MisbehavingServer(Policy(latency_s=0.05)) as server:
        for label, queue_rows in (("bounded (64-row queues)", "64"), ("unbounded (--queue-rows 0)", "0")):
            result = run_command(
                drill,
                source,
                server.url,
                args.out / "memory-out.csv",
                "--queue-rows",
                queue_rows,
                stop_after_s=args.memory_seconds,
            )
            rows.append({"mode": label, **result})
            print(f"  {label}: peak {result['peak_rss_mib']} MiB, {result['rows_written']} rows written", flush=True)
    return rows


def chaos(drill: Drill, args: argparse.Namespace) -> dict[str, Any]:
    source = write_sentiment_csv(args.out / "chaos.csv", 2000)
    with MisbehavingServer(CHAOS) as server:
        result = run_command(drill, source, server.url, args.out / "chaos-out.csv", "--concurrency", "8")
        behaviours = [a.behaviour for a in server.arrivals]
        return {
            **result,
            "requests": len(behaviours),
            "misbehaved": sum(b != "ok" for b in behaviours),
            "max_in_flight": server.max_in_flight,
            "concurrency": 8,
            "connections": server.connections,
            "early_retries": len(server.early_retries()),
        }


def markdown(report: dict[str, Any]) -> str:
    t, c = report["throughput"], report["chaos"]
    memory_rows = "\n".join(
        f"| {m['mode']} | {m['peak_rss_mib']} | {m['rows_written']} | {m['seconds']} |" for m in report["memory"]
    )
    return (
        "## REST vs gRPC vs port (same trivial model, loopback)\n\n" + markdown_table(report["transports"]) + "\n\n"
        f"## Pipeline throughput\n\n{t['rows']} rows, {t['model']}, --concurrency 32: **{t['rows_per_s']} rows/s** "
        f"({t['seconds']} s, peak {t['peak_rss_mib']} MiB).\n\n"
        f"## Peak memory on {report['memory_rows']:,} rows in front of a slow server (50 ms a request), "
        f"stopped after {report['memory_seconds']} s\n\n"
        "| queues | peak RSS (MiB) | rows written | seconds |\n|---|---:|---:|---:|\n" + memory_rows + "\n\n"
        f"## On the misbehaving server (2,000 rows)\n\n{c['requests']} requests of which {c['misbehaved']} "
        f"misbehaved; {c['summary']['rows_ok'] if c['summary'] else '?'} rows ok, "
        f"{c['summary']['rows_failed'] if c['summary'] else '?'} failed, {c['seconds']} s; "
        f"at most {c['max_in_flight']} in flight (--concurrency {c['concurrency']}); "
        f"{c['early_retries']} retries before Retry-After; {c['connections']} connections opened.\n"
    )


def plot(report: dict[str, Any]):
    figure, (left, right) = new_figure(2)
    names = [r["transport"] for r in report["transports"]]
    left.bar([f"{n}\n1 at a time" for n in names], [r["sequential_per_s"] for r in report["transports"]])
    left.bar([f"{n}\npipelined" for n in names], [r["pipelined_per_s"] for r in report["transports"]])
    left.set(ylabel="round trips per second", title="same model, three transports")
    right.bar([m["mode"].split(" (")[0] for m in report["memory"]], [m["peak_rss_mib"] for m in report["memory"]])
    right.set(ylabel="peak RSS (MiB)", title=f"{report['memory_rows']:,}-row CSV, slow server")
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.pipeline.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--impl",
        default=reference_impl(),
        help="whose d6, and the d1 and d4 it runs against: drills, solutions or a submission folder "
        "(default: solutions, or drills in the learners' bundle)",
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-seconds", type=float, default=20.0)
    parser.add_argument("--url", help="a sentiment API already running (e.g. make serve); default: start one")
    parser.add_argument("--fake", action="store_true", help="serve the fake model instead of the real one")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.url and (problem := probe_api(args.url)):  # unreachable, or not the API's base URL
        parser.exit(problem[0], f"error: {problem[1]}\n")
    served_drill = () if args.url else ("d1_sentiment_api",)  # --url: the API runs elsewhere, not this impl's d1
    exit_unless_finished(
        args.impl, "d4_port_server", *served_drill, DRILL, needed_by="python -m mlcourse.pipeline.bench"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    drill = load_drill(args.impl, DRILL)
    print("1/4 REST vs gRPC vs port", flush=True)
    report: dict[str, Any] = {"impl": args.impl, "transports": asyncio.run(compare(args.impl))}
    print(markdown_table(report["transports"]), flush=True)
    print(f"2/4 throughput over {args.rows} rows", flush=True)
    report["throughput"] = throughput(drill, args)
    print(f"3/4 memory on {args.memory_rows} rows", flush=True)
    report.update(memory=memory(drill, args), memory_rows=args.memory_rows, memory_seconds=args.memory_seconds)
    print("4/4 the misbehaving server", flush=True)
    report["chaos"] = chaos(drill, args)
    paths = write_report(
        args.out,
        title="d6 and notebook 08: the hybrid pipeline's figures",
        markdown=markdown(report),
        data=report,
        figure=plot(report),
    )
    print(markdown(report))
    print(f"written: {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
