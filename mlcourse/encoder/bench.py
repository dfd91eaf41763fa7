"""The encoder benchmark, in one run: latency per bucket and backend, compile times, d1 at 100 req/s.

    python -m mlcourse.encoder bench [--model PATH] [--threads 1,2] [--rate 100 --duration 20] [--no-load] [--standin]

Latency: JAX float32, PyTorch float32 and PyTorch int8 at each thread count and every compiled
(batch, sequence) bucket, each in its own process (``latency``), with JAX's compile time and
memory per batch size. Load, the figure that counts: drill d1's reference API served with PyTorch
int8, PyTorch float32 and JAX float32 under the window and the adaptive policy, open-loop at
``--rate``: p50/p95/p99 and the mean batch per run (``--standin`` adds the DistilBERT-base-size
stand-in, random weights: compute only). Writes ``report.md``, ``report.json`` and ``report.png``
to ``build/encoder/`` via ``write_report``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from tqdm.auto import tqdm

from mlcourse.api.models import default_threads
from mlcourse.encoder.latency import BACKENDS, BATCHES, LENGTHS
from mlcourse.impl import exit_unless_finished, reference_impl
from mlcourse.paths import BUILD_DIR, REPO_ROOT

OUT_DIR = BUILD_DIR / "encoder"
GOAL_BUCKET = (16, 32)  # batch x tokens where JAX float32 should be no slower than PyTorch float32
SERVED_LENGTH = 32  # tokens: the bucket most of the load test's tweets fall in
POLICIES = ("window", "adaptive")
# Served backends: (name, the server's --backend, --precision, --threads: None is the server's own rule, which
# gives XLA every core; the last row holds XLA to torch's share to check that rule); latency runs share the names.
SERVED = (
    ("torch-int8", "torch", "int8", None),
    ("torch-f32", "torch", "float32", None),
    ("jax", "jax", "float32", None),
    ("jax-half-cores", "jax", "float32", default_threads()),
)


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
    """d1's reference API per (model, policy, backend): p50/p95/p99 of the 200s at ``rate``, and the mean batch."""
    from mlcourse.api.process import served
    from mlcourse.loadtest.measure import measure

    rows = []
    for label, model in models.items():
        for policy in POLICIES:
            for name, backend, precision, threads in SERVED:
                log = out_dir / f"server-{label.split()[0]}-{policy}-{name}.log"
                with served(
                    impl,
                    model=model,
                    log_path=log,
                    backend=backend,
                    precision=precision,
                    batching=policy,
                    threads=threads,
                ) as server:
                    run = measure(server.url, rate, duration_s)
                summary = run.result.summary()
                rows.append(
                    {
                        "model": label,
                        "policy": policy,
                        "backend": name,
                        "rate": rate,
                        "sent": summary["sent"],
                        "statuses": summary["statuses"],
                        "mean_batch": round(run.mean_batch, 2),
                        **summary["latency_ms_200"],
                    }
                )
                row = rows[-1]
                print(
                    f"{label:>22} {policy:>8} {name:>10}: p50 {row['p50']} p95 {row['p95']} p99 {row['p99']} ms, "
                    f"mean batch {row['mean_batch']}",
                    flush=True,
                )
    return rows


def served_goal(loads: list[dict]) -> list[str]:
    """Per model and policy, whether JAX float32's p99 is no higher than PyTorch int8's and below PyTorch float32's."""
    lines = []
    for model, policy in dict.fromkeys((r["model"], r["policy"]) for r in loads):
        p99 = {r["backend"]: r["p99"] for r in loads if (r["model"], r["policy"]) == (model, policy)}
        met = p99["jax"] <= p99["torch-int8"] and p99["jax"] < p99["torch-f32"]
        lines.append(
            f"{model}, {policy}: p99 JAX float32 {p99['jax']} ms, PyTorch int8 {p99['torch-int8']} ms, "
            f"PyTorch float32 {p99['torch-f32']} ms: goal {'met' if met else 'not met'} "
            f"(JAX held to {default_threads()} thread(s): {p99['jax-half-cores']} ms)"
        )
    return lines


def thread_gains(runs: list[dict], batch: int) -> dict[str, float]:
    """Per backend, time on 1 thread / time on the most threads measured, at ``batch`` x SERVED_LENGTH tokens:
    what the extra cores buy the model alone, beside the served p99 of JAX with and without them."""

    def at(run):
        return next(r["median_ms"] for r in run["rows"] if (r["batch"], r["length"]) == (batch, SERVED_LENGTH))

    most = max(run["threads"] for run in runs)
    by = {(run["backend"], run["threads"]): at(run) for run in runs}
    return {b: round(by[b, 1] / by[b, most], 2) for b, t in by if t == most and (b, 1) in by and most > 1}


def batch_bucket_rows(runs: list[dict]) -> list[dict]:
    """Per JAX batch-size bucket at SERVED_LENGTH tokens: its load cost (compile s, MiB over every sequence
    bucket) against the latency it saves over running the same batch in the next larger bucket."""
    rows = []
    for run in (r for r in runs if r["backend"] == "jax"):
        ms = {r["batch"]: r["median_ms"] for r in run["rows"] if r["length"] == SERVED_LENGTH}
        for smaller, larger in zip(BATCHES, (*BATCHES[1:], None)):
            rows.append(
                {
                    "threads": run["threads"],
                    "batch": smaller,
                    "compile_s": round(sum(run["compile_s"][str(smaller)].values()), 2),
                    "program_mib": run["program_mib"][str(smaller)],
                    "ms": ms[smaller],
                    "saved_ms": None if larger is None else round(ms[larger] - ms[smaller], 2),
                }
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
        "| backend | device | threads | batch | " + " | ".join(f"{n} tok" for n in LENGTHS) + " |",
        "|---|---|---|---|" + "---|" * len(LENGTHS),
    ]
    for run in runs:
        for batch in sorted({r["batch"] for r in run["rows"]}):
            cells = [f"{r['median_ms']:.1f}" for r in run["rows"] if r["batch"] == batch]
            lines.append(
                f"| {run['backend']} | {run['device']} | {run['threads']} | {batch} | " + " | ".join(cells) + " |"
            )
    lines += [
        "",
        (
            f"JAX batch-size buckets at {SERVED_LENGTH} tokens: what each costs at load (compile time and memory, "
            "over every sequence bucket) and what it saves a batch that would otherwise run in the next larger one:"
        ),
        "",
        "| threads | batch bucket | compile s | program MiB | ms per call | ms saved vs next bucket |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['threads']} | {r['batch']} | {r['compile_s']} | {r['program_mib']} | {r['ms']} | "
        f"{'-' if r['saved_ms'] is None else r['saved_ms']} |"
        for r in batch_bucket_rows(runs)
    ]
    lines += [""] + [
        f"- JAX at {run['threads']} thread(s) on {run['device']}: {len(BATCHES) * len(LENGTHS)} programs, "
        f"loaded in {run['load_s']} s"
        for run in runs
        if run["backend"] == "jax"
    ]
    lines += [
        "",
        (
            f"PyTorch float32 / JAX float32 time at batch {GOAL_BUCKET[0]} x {GOAL_BUCKET[1]} tokens "
            f"(>= 1 means JAX is no slower): {ratios}"
        ),
    ]
    gains = thread_gains(runs, 8)
    if gains:
        lines += [
            "",
            (
                f"Speed-up of {max(run['threads'] for run in runs)} threads over 1 at 8 x {SERVED_LENGTH} tokens, "
                f"the model alone: {gains}. The server gives torch half the cores (here {default_threads()}), "
                "the rest to its event loop, the tokenizer and the clients, and XLA every core."
            ),
        ]
    if loads:
        lines += [
            "",
            (
                "Drill d1 (reference API) under open-loop load, torch on half the cores, XLA on every core "
                "(jax-half-cores: on torch's share); a stand-in has random weights (DistilBERT-base size: "
                "a compute stand-in, not a classifier):"
            ),
            "",
            "| model | policy | backend | rate/s | sent | statuses | mean batch | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['model']} | {r['policy']} | {r['backend']} | {r['rate']:.0f} | {r['sent']} | {r['statuses']} | "
            f"{r['mean_batch']} | {r['p50']} | {r['p95']} | {r['p99']} |"
            for r in loads
        ]
        lines += ["", "JAX float32 p99 no higher than PyTorch int8's and below PyTorch float32's:", ""]
        lines += [f"- {line}" for line in served_goal(loads)]
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

    figure, (latency_axes, batch_axes, compile_axes) = new_figure(3)
    for run in runs:
        rows = [r for r in run["rows"] if r["length"] == SERVED_LENGTH]
        batch_axes.plot(
            [r["batch"] for r in rows],
            [r["median_ms"] for r in rows],
            marker="o",
            linestyle="-" if run["threads"] > 1 else "--",
            label=f"{run['backend']}, {run['threads']} thr",
        )
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
    latency_axes.set_xticks(list(LENGTHS), labels=[str(n) for n in LENGTHS])
    batch_axes.set(
        xscale="log",
        yscale="log",
        xlabel="batch bucket (rows)",
        ylabel="ms per batch",
        title=f"forward latency, {SERVED_LENGTH} tokens",
    )
    batch_axes.minorticks_off()
    batch_axes.set_xticks(list(BATCHES), labels=[str(n) for n in BATCHES])
    compile_axes.set(
        xlabel="sequence bucket (tokens)",
        ylabel="seconds",
        title=f"XLA compile time per bucket, batch {GOAL_BUCKET[0]}",
    )
    for axes in (latency_axes, batch_axes, compile_axes):
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
    parser.add_argument(
        "--standin", action="store_true", help="load-test the DistilBERT-base-size stand-in too (doubles the time)"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if not args.no_load:  # the load runs come last: say at once that they cannot run
        exit_unless_finished(args.impl, "d1_sentiment_api", needed_by="python -m mlcourse.encoder bench")
    from mlcourse.encoder.standin import make_distilbert_standin
    from mlcourse.reports import write_report

    runs = latency_runs(args.model, [int(t) for t in args.threads.split(",")], args.repeats)
    ratios = goal_ratios(runs)
    loads, ceilings = [], {}
    if not args.no_load:
        models = {"default (MiniLM-L6)": args.model}
        if args.standin:
            standin = args.out / "distilbert-base-standin"
            if not (standin / "model.safetensors").is_file():
                make_distilbert_standin(standin)
            models["DistilBERT-base stand-in"] = str(standin)
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
            "served_goal": served_goal(loads) if loads else [],
            "batch_buckets": batch_bucket_rows(runs),
            "torch_threads_served": default_threads(),
            "offline_ceiling_texts_per_s": ceilings,
        },
        figure=plot(runs),
    )
    print(text)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
