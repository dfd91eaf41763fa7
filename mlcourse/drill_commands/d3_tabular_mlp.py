"""Drill d3's command line, once for the starter and the reference: ``python -m <package> CSV --target COLUMN``.

Each implementation's `__main__` passes its own `prepare` and `train`; this module parses the
arguments, writes the prepared output, saves the training curve and prints the JSON line last.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mlcourse.paths import BUILD_DIR
from mlcourse.tabular.contract import Prepared, TabularDataError, TrainResult, summary, write_prepared

PrepareFn = Callable[..., Prepared]  # prepare(csv_path, target, *, val_fraction, seed)
TrainFn = Callable[..., TrainResult]  # train(prepared, *, seed)


def parse_args(argv: Sequence[str] | None, prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description="Prepare a CSV with Polars and train a 2-layer MLP on it.")
    parser.add_argument("csv", type=Path, help="CSV file with a header row")
    parser.add_argument("--target", required=True, help="name of the column to predict")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="share of rows held out (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of training (default 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the prepared output (default build/d3_tabular_mlp/<csv name>)",
    )
    parser.add_argument("--prep-only", action="store_true", help="write the prepared output, skip training")
    return parser.parse_args(argv)


def main(package: str, argv: Sequence[str] | None = None, *, prepare: PrepareFn, train: TrainFn) -> int:
    """Run prep (and training), saying on stderr what the prep did with nulls and identifier columns;
    bad input ends with a one-line message on stderr and exit status 2."""
    prog = f"python -m {package}"
    args = parse_args(argv, prog)
    out_dir = args.out or BUILD_DIR / "d3_tabular_mlp" / args.csv.stem
    try:
        prepared = prepare(args.csv, args.target, val_fraction=args.val_fraction, seed=args.seed)
    except (TabularDataError, FileNotFoundError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    write_prepared(prepared, out_dir)
    nulls = prepared.nulls
    print(
        f"{nulls.n_rows} rows: {nulls.n_dropped_rows} dropped (null target), "
        f"{nulls.n_rows_with_nulls} kept with imputed nulls; null cells per column: {nulls.null_counts}",
        file=sys.stderr,
    )
    dropped = ", ".join(prepared.stats.identifiers) or "none"
    print(f"identifier columns dropped (not features): {dropped}", file=sys.stderr)
    result = None
    if not args.prep_only:
        result = train(prepared, seed=args.seed)
        from mlcourse.tabular.plot import plot_history  # matplotlib only when there is a curve to draw

        plot_history(result.history, f"{args.csv.name} -> {args.target}", out_dir / "training_curve.png")
    print(f"prepared output in {out_dir}", file=sys.stderr)
    print(json.dumps(summary(prepared, result)))
    return 0
