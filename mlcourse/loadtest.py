"""Load-test the sentiment API served by uvicorn in a child process, on a free loopback port.

    python -m mlcourse.loadtest --impl solutions --rate 100 --duration 20
    python -m mlcourse.loadtest --rates 50,100,200,300 --duration 10

One rate: open-loop load at that rate, p50/p95/p99 of the 200s, status counts. Several rates:
the same for each, then the highest rate whose p99 stays under ``--p99-ms`` (250) with at
least 99 % answered 200 (the sustainable rate), and a run at twice that rate to show the
share of 429s once the queue saturates. Writes ``report.md``, ``report.json`` and
``latency.png`` to ``build/loadtest/`` and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mlcourse.impl import load_drill
from mlcourse.loadgen import LoadResult, load_http
from mlcourse.paths import BUILD_DIR, REPO_ROOT
from mlcourse.serve import DRILL

OUT_DIR = BUILD_DIR / "loadtest"
P99_TARGET_MS = 250.0
MIN_OK_SHARE = 0.99
WARMUP_RATE = 50.0


class ServerError(RuntimeError):
    """The API did not start, or stopped, in its child process."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(impl: str = "solutions", *, model: str | None = None, fake: bool = False,
           ready_timeout_s: float = 180.0, log_path: Path | None = None) -> Iterator[str]:
    """Run ``python -m mlcourse.serve`` in a child process; yield its base URL once /healthz says 200."""
    port = free_port()
    command = [sys.executable, "-m", "mlcourse.serve", "--impl", impl, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    command += ["--fake"] if fake else ["--model", model] if model else []
    log_path = log_path or OUT_DIR / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        env = load_drill(impl, DRILL).env()
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, child, ready_timeout_s, log_path)
        yield base_url
    finally:
        stop(child)


def wait_ready(base_url: str, child: subprocess.Popen, timeout_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise ServerError(f"the server exited with code {child.returncode}:\n{tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ServerError(f"/healthz did not answer 200 within {timeout_s:.0f} s:\n{tail(log_path)}")


def stop(child: subprocess.Popen) -> None:
    """Ctrl-C, as a person would (uvicorn then runs the app's shutdown); kill if it hangs."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def batch_sizes(base_url: str) -> dict[int, int]:
    """The app's batch-size histogram from /metrics ({} if it has none)."""
    try:
        return {int(k): int(v) for k, v in httpx.get(f"{base_url}/metrics", timeout=5).json()["batch_sizes"].items()}
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return {}


@dataclass
class Run:
    """One measured rate: the load result and the batch sizes the server used meanwhile."""

    result: LoadResult
    batches: dict[int, int]

    @property
    def mean_batch(self) -> float:
        calls = sum(self.batches.values())
        return sum(size * n for size, n in self.batches.items()) / calls if calls else float("nan")

    def sustained(self, p99_ms: float = P99_TARGET_MS) -> bool:
        return self.result.percentiles_ms()["p99"] < p99_ms and self.result.share(200) >= MIN_OK_SHARE

    def row(self) -> dict[str, object]:
        return {**self.result.summary(), "mean_batch": round(self.mean_batch, 2), "batch_sizes": self.batches}


def measure(base_url: str, rate: float, duration_s: float, *, warmup_s: float = 1.0) -> Run:
    """Warm up (discarded, at a pace the server surely sustains, so no backlog is left), then an
    open-loop run at ``rate``; batch sizes are the difference of /metrics before and after."""
    if warmup_s > 0:
        asyncio.run(load_http(base_url, rate=min(rate, WARMUP_RATE), duration_s=warmup_s))
        time.sleep(0.5)
    before = batch_sizes(base_url)
    result = asyncio.run(load_http(base_url, rate=rate, duration_s=duration_s))
    after = batch_sizes(base_url)
    delta = {size: after[size] - before.get(size, 0) for size in sorted(after) if after[size] > before.get(size, 0)}
    return Run(result, delta)


def sweep(base_url: str, rates: list[float], duration_s: float, p99_ms: float = P99_TARGET_MS) -> dict[str, object]:
    """Each rate in order, the highest sustained one, and a run at twice that rate."""
    runs = []
    for rate in sorted(rates):
        runs.append(measure(base_url, rate, duration_s))
        print(format_row(runs[-1]), flush=True)
        time.sleep(1.0)  # let the queue drain between rates
    sustained = [run for run in runs if run.sustained(p99_ms)]
    best = max((run.result.rate for run in sustained), default=None)
    overload = None
    if best is not None:
        overload = measure(base_url, 2 * best, duration_s)
        print(format_row(overload) + "   <- twice the sustainable rate", flush=True)
    return {"runs": runs, "sustainable_rate": best, "overload": overload}


HEADER = (f"{'rate/s':>7} {'sent':>6} {'200':>6} {'429':>6} {'other':>6} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'batch':>6}")


def format_row(run: Run) -> str:
    r = run.result
    p = r.percentiles_ms()
    other = r.sent - r.status.count(200) - r.status.count(429)
    return (f"{r.rate:>7.0f} {r.sent:>6} {r.status.count(200):>6} {r.status.count(429):>6} {other:>6} "
            f"{p['p50']:>7.1f} {p['p95']:>7.1f} {p['p99']:>7.1f} {run.mean_batch:>6.1f}")


def machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "platform": platform.platform()}


def write_report(out_dir: Path, config: dict[str, object], runs: list[Run], sustainable: float | None,
                 overload: Run | None, p99_ms: float) -> list[Path]:
    """report.json (every figure), report.md (the table) and latency.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    host = machine()
    report = {"config": config, "machine": host, "p99_target_ms": p99_ms, "runs": [run.row() for run in runs],
              "sustainable_rate": sustainable, "overload": overload.row() if overload else None}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Load test: POST /api/sentiment",
        "",
        f"Implementation `{config['impl']}`, model `{config['model']}`, open-loop, {config['duration_s']} s per rate, "
        f"{host['cpus']} CPUs (1-min load average {host['load_avg_1m']} at the end: other processes share them).",
        "Latencies of the 200 answers, counted from each request's scheduled send time.",
        "",
        "| rate/s | sent | 200 | 429 | other | p50 ms | p95 ms | p99 ms | mean batch |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs + ([overload] if overload else []):
        cells = format_row(run).split()
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if len(runs) > 1 or overload:
        if sustainable is None:
            lines.append(f"No rate kept p99 under {p99_ms:.0f} ms with {MIN_OK_SHARE:.0%} answered 200.")
        else:
            lines.append(f"Highest sustainable rate (p99 < {p99_ms:.0f} ms, >= {MIN_OK_SHARE:.0%} answered 200): "
                         f"**{sustainable:.0f} requests/s**.")
        if overload:
            over = overload.result
            lines.append(f"At twice that rate ({over.rate:.0f}/s): {over.share(429):.1%} answered 429; "
                         f"p99 of the accepted: {over.percentiles_ms()['p99']:.0f} ms.")
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    plot(out_dir / "latency.png", runs, overload, p99_ms)
    return [out_dir / "report.md", out_dir / "report.json", out_dir / "latency.png"]


def plot(path: Path, runs: list[Run], overload: Run | None, p99_ms: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = runs + ([overload] if overload else [])
    fig, axes = plt.subplots(1, 2 if len(shown) > 1 else 1, figsize=(12 if len(shown) > 1 else 7, 4), squeeze=False)
    last = shown[-1].result
    ax = axes[0][0]
    for code, color in ((200, "tab:blue"), (429, "tab:orange")):
        points = [(d, lat * 1000) for d, lat, s in zip(last.due_s, last.latency_s, last.status) if s == code]
        if points:
            ax.scatter(*zip(*points), s=4, color=color, label=str(code))
    ax.axhline(p99_ms, color="tab:red", linestyle="--", linewidth=1, label=f"{p99_ms:.0f} ms")
    ax.set(title=f"latency over time at {last.rate:.0f} requests/s", xlabel="scheduled send time (s)",
           ylabel="latency (ms)")
    ax.legend(loc="upper left")
    if len(shown) > 1:
        ax = axes[0][1]
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
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default="solutions", help="drills, solutions or a folder")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (one run)")
    parser.add_argument("--rates", default=None, help="comma-separated rates: find the sustainable one")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per rate")
    parser.add_argument("--p99-ms", type=float, default=P99_TARGET_MS)
    parser.add_argument("--model", default=None, help="hub id or local folder (default: the built offline model)")
    parser.add_argument("--fake", action="store_true", help="serve the deterministic fake model")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")] if args.rates else [args.rate]
    model = "fake" if args.fake else args.model or "default (data/models/sentiment-minilm)"
    config = {"impl": args.impl, "model": model,
              "rates": rates, "duration_s": args.duration}
    try:
        with served(args.impl, model=args.model, fake=args.fake, log_path=args.out / "server.log") as base_url:
            print(f"serving {args.impl} at {base_url}; open-loop load, {args.duration:.0f} s per rate", flush=True)
            print(HEADER, flush=True)
            if len(rates) == 1:
                run = measure(base_url, rates[0], args.duration)
                print(format_row(run))
                runs, sustainable, overload = [run], None, None
            else:
                found = sweep(base_url, rates, args.duration, args.p99_ms)
                runs, sustainable, overload = found["runs"], found["sustainable_rate"], found["overload"]
    except ServerError as error:
        print(error, file=sys.stderr)
        return 1
    files = write_report(args.out, config, runs, sustainable, overload, args.p99_ms)
    if len(rates) > 1:
        print(f"sustainable rate (p99 < {args.p99_ms:.0f} ms): {sustainable}")
        if overload:
            print(f"429 share at {overload.result.rate:.0f}/s: {overload.result.share(429):.1%}")
    print("wrote " + ", ".join(str(f.relative_to(REPO_ROOT)) if f.is_relative_to(REPO_ROOT) else str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
