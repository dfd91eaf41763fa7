"""The encoder benchmark, in one run: latency per bucket and backend, compile times, d1 at 100 req/s.

    python -m mlcourse.encoder bench [--model PATH] [--threads 1,2] [--rate 100 --duration 20] [--no-load]

Latency: JAX float32, PyTorch float32 and PyTorch int8 at each thread count, each in its own
process (``latency``). Load: drill d1's reference API on each backend under open-loop load, for
the default model and for the DistilBERT-base-size stand-in (random weights: compute only).
Writes ``report.md``, ``report.json`` and ``report.png`` to ``build/encoder/`` via ``write_report``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from tqdm.auto import tqdm

from mlcourse.encoder.latency import BACKENDS
from mlcourse.impl import reference_impl
from mlcourse.paths import BUILD_DIR, REPO_ROOT

OUT_DIR = BUILD_DIR / "encoder"
GOAL_BUCKET = (16, 32)  # batch x tokens where JAX float32 should be no slower than PyTorch float32


def latency_runs(model: str | None, threads: list[int], repeats: int) -> list[dict]:
    runs = []
    for count, backend in tqdm([(t, b) for t in threads for b in BACKENDS], desc="latency", unit="process"):
        command = [
            sys.executable,
            "-m",
            "mlcourse.encoder",
            "latency",
            "--backend",
            backend,
            "--threads",
            str(count),
            "--repeats",
            str(repeats),
        ] + (["--model", model] if model else [])
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def load_runs(impl: str, models: dict[str, str | None], rate: float, duration_s: float, out_dir: Path) -> list[dict]:
    """d1's reference API per (model, backend): p50/p95/p99 of the 200s at ``rate``."""
    from mlcourse.api.process import served
    from mlcourse.loadtest.measure import measure

    rows = []
    for label, model in models.items():
        for backend in ("torch", "jax"):
            log = out_dir / f"server-{label}-{backend}.log"
            with served(impl, model=model, backend=backend, log_path=log) as server:
                run = measure(server.url, rate, duration_s)
            summary = run.result.summary()
            rows.append(
                {
                    "model": label,
                    "backend": backend,
                    "rate": rate,
                    "sent": summary["sent"],
                    "statuses": summary["statuses"],
                    "mean_batch": round(run.mean_batch, 2),
                    **summary["latency_ms_200"],
                }
            )
            print(
                f"{label:>22} {backend:>6}: p50 {rows[-1]['p50']} p95 {rows[-1]['p95']} p99 {rows[-1]['p99']} ms",
                flush=True,
            )
    return rows


def offline_ceilings(models: dict[str, str | None], seconds: float = 5.0) -> dict[str, float]:
    """Each model's offline texts/s on every core (PyTorch int8, batches of 16, the load test's texts):
    no server on this machine can sustain a rate above it, whatever its batching."""
    import os

    from mlcourse.loadtest.efficiency import BATCH_SIZE, offline_throughput

    return {
        label: round(offline_throughput(model, os.cpu_count() or 1, BATCH_SIZE, seconds), 1)
        for label, model in models.items()
    }


def goal_ratios(runs: list[dict]) -> dict[int, float]:
    """PyTorch float32 time / JAX float32 time at the goal bucket, per thread count (>= 1: JAX no slower)."""

    def at(run):
        return next(r["median_ms"] for r in run["rows"] if (r["batch"], r["length"]) == GOAL_BUCKET)

    by = {(run["backend"], run["threads"]): at(run) for run in runs}
    return {t: round(by[("torch-f32", t)] / by[("jax", t)], 2) for b, t in by if b == "jax"}


def markdown(runs: list[dict], loads: list[dict], ratios: dict[int, float], ceilings: dict[str, float]) -> str:
    lines = [
        "Forward latency, median ms per call (synthetic full-length inputs, no padding):",
        "",
        "| backend | threads | batch | " + " | ".join(f"{n} tok" for n in (16, 32, 64, 128)) + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for batch in sorted({r["batch"] for r in run["rows"]}):
            cells = [f"{r['median_ms']:.1f}" for r in run["rows"] if r["batch"] == batch]
            lines.append(f"| {run['backend']} | {run['threads']} | {batch} | " + " | ".join(cells) + " |")
    lines += ["", "JAX compile time per bucket at load, seconds (batch: {tokens: s}):", ""]
    lines += [f"- {run['threads']} thread(s): {run['compile_s']}" for run in runs if run["backend"] == "jax"]
    lines += [
        "",
        (
            f"PyTorch float32 / JAX float32 time at batch {GOAL_BUCKET[0]} x {GOAL_BUCKET[1]} tokens "
            f"(>= 1 means JAX is no slower): {ratios}"
        ),
    ]
    if loads:
        lines += [
            "",
            (
                "Drill d1 (reference API) under open-loop load; the stand-in has random weights "
                "(DistilBERT-base size: a compute stand-in, not a classifier):"
            ),
            "",
            "| model | backend | rate/s | sent | statuses | mean batch | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['model']} | {r['backend']} | {r['rate']:.0f} | {r['sent']} | {r['statuses']} | "
            f"{r['mean_batch']} | {r['p50']} | {r['p95']} | {r['p99']} |"
            for r in loads
        ]
    if ceilings:
        lines += [
            "",
            "Offline ceiling, texts/s (PyTorch int8 on every core, batches of 16, the load test's texts; "
            "no rate above it can be served here): "
            + ", ".join(f"{label} {value}" for label, value in ceilings.items()),
        ]
    return "\n".join(lines)


def plot(runs: list[dict]):
    from mlcourse.reports import new_figure

    figure, (latency_axes, compile_axes) = new_figure(2)
    for run in runs:
        rows = [r for r in run["rows"] if r["batch"] == GOAL_BUCKET[0]]
        latency_axes.plot(
            [r["length"] for r in rows],
            [r["median_ms"] for r in rows],
            marker="o",
            linestyle="-" if run["threads"] > 1 else "--",
            label=f"{run['backend']}, {run['threads']} thr",
        )
        if run["backend"] == "jax":
            compile_s = run["compile_s"][str(GOAL_BUCKET[0])]  # JSON from the child: keys are strings
            compile_axes.plot(
                [int(k) for k in compile_s], list(compile_s.values()), marker="s", label=f"{run['threads']} thread(s)"
            )
    latency_axes.set(
        yscale="log",
        xlabel="sequence bucket (tokens)",
        ylabel="ms per batch",
        title=f"forward latency, batch {GOAL_BUCKET[0]}",
    )
    latency_axes.set_xscale("log", base=2)
    latency_axes.minorticks_off()
    latency_axes.set_xticks([16, 32, 64, 128], labels=["16", "32", "64", "128"])
    compile_axes.set(
        xlabel="sequence bucket (tokens)",
        ylabel="seconds",
        title=f"XLA compile time per bucket, batch {GOAL_BUCKET[0]}",
    )
    for axes in (latency_axes, compile_axes):
        axes.legend(fontsize=8)
        axes.grid(alpha=0.3)
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.encoder bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="folder or hub id (default: the built offline model)")
    parser.add_argument(
        "--impl",
        default=reference_impl(),
        help="whose d1 API serves the load tests (default: solutions, or drills in the learners' bundle)",
    )
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--no-load", action="store_true", help="skip the d1 load tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    from mlcourse.encoder.standin import make_distilbert_standin
    from mlcourse.reports import write_report

    runs = latency_runs(args.model, [int(t) for t in args.threads.split(",")], args.repeats)
    ratios = goal_ratios(runs)
    loads, ceilings = [], {}
    if not args.no_load:
        standin = args.out / "distilbert-base-standin"
        if not (standin / "model.safetensors").is_file():
            make_distilbert_standin(standin)
        models = {"default (MiniLM-L6)": args.model, "DistilBERT-base stand-in": str(standin)}
        loads = load_runs(args.impl, models, args.rate, args.duration, args.out)
        ceilings = offline_ceilings(models)
    text = markdown(runs, loads, ratios, ceilings)
    paths = write_report(
        args.out,
        title="Flax NNX encoder vs PyTorch",
        markdown=text,
        data={
            "latency": runs,
            "goal_ratio_torch_over_jax": ratios,
            "load": loads,
            "offline_ceiling_texts_per_s": ceilings,
        },
        figure=plot(runs),
    )
    print(text)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
