"""Render drill d2's benchmark as Markdown, JSON and a plot; `python -m mlcourse.matmul.report` runs it.

The learner's ``bench.run_benchmark`` measures; this module only presents, so every
implementation's report has the same shape and the checks can read it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from matplotlib.figure import Figure

from mlcourse.impl import exit_unless_finished, load_drill, reference_impl
from mlcourse.paths import BUILD_DIR
from mlcourse.reports import new_figure
from mlcourse.reports import write_report as write_files

REQUIRED_ROW_FIELDS = (
    "size",
    "backend",
    "device",
    "first_call_s",
    "min_s",
    "median_s",
    "gflops",
    "speedup_vs_reference",
)
REQUIRED_REPORT_FIELDS = ("dtype", "devices", "jax_version", "repeats", "rows")
DEFAULT_OUT = BUILD_DIR / "d2_jit_matmul"


def markdown_table(report: dict) -> str:
    header = (
        "| size | backend | device | first call (ms) | min (ms) | median (ms) | GFLOP/s | speed-up vs reference |\n"
        "|---:|---|---|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {r['size']} | {r['backend']} | {r['device']} | {r['first_call_s'] * 1e3:.2f} | {r['min_s'] * 1e3:.2f} "
        f"| {r['median_s'] * 1e3:.2f} | {r['gflops']:.1f} | {r['speedup_vs_reference']:.1f}x |"
        for r in report["rows"]
    ]
    note = (
        f"\n\n{report['dtype']} square matrices, {report['repeats']} steady-state calls after the first; "
        f"jax {report['jax_version']} on {', '.join(report['devices'])}. "
        "The first call of jax-jit includes tracing and XLA compilation."
    )
    return "\n".join([header, *lines]) + note + "\n"


def plot(report: dict) -> Figure:
    figure, (axes,) = new_figure()
    series = sorted({(r["backend"], r["device"]) for r in report["rows"]})
    for backend, device in series:
        rows = [r for r in report["rows"] if (r["backend"], r["device"]) == (backend, device)]
        axes.plot([r["size"] for r in rows], [r["gflops"] for r in rows], marker="o", label=f"{backend} ({device})")
    axes.set(
        xscale="log",
        yscale="log",
        xlabel="n (n x n matrices)",
        ylabel="GFLOP/s (median)",
        title="matmul throughput, float32",
    )
    axes.legend()
    return figure


def write_report(report: dict, out_dir: Path) -> dict[str, Path]:
    """Write report.md, report.json and report.png into ``out_dir``."""
    return write_files(
        out_dir, title="d2: matmul benchmark", markdown=markdown_table(report), data=report, figure=plot(report)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.matmul.report", description=__doc__)
    parser.add_argument(
        "--impl",
        default=reference_impl(),
        help="drills, solutions or a submission folder (default: solutions, or drills in the learners' bundle)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="matrix sizes (default: the drill's)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    exit_unless_finished(args.impl, "d2_jit_matmul", needed_by="python -m mlcourse.matmul.report")
    bench = load_drill(args.impl, "d2_jit_matmul").module("bench")
    sizes = args.sizes or bench.SIZES
    report = bench.run_benchmark(sizes=sizes, repeats=args.repeats)
    paths = write_report(report, args.out)
    print(markdown_table(report))
    print(f"written: {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
