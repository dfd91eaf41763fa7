"""Score every row of a CSV through the sentiment API; resumable; the last stdout line is JSON.

    python -m <package> INPUT.csv --url URL --out OUT.csv [--id-column id] [--text-column text]
                        [--concurrency N] [--deadline SECONDS] [--queue-rows N]

The exit status says what happened (``mlcourse.drill_commands.d6_hybrid_pipeline``): 0 every row scored, 5 every
row written but some without a prediction (their reason is in the output), 2 bad arguments or
input (a missing column), 3 the API cannot be reached, 4 ``--url`` is not the API's base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import polars as pl
from tqdm import tqdm

from mlcourse.drill_commands.d6_hybrid_pipeline import (
    EXIT_MISCONFIGURED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_USAGE,
    parse_args,
    probe_api,
)
from mlcourse.pipeline.errors import ConfigurationError, first_leaf

from .client import SentimentClient
from .output import ResultWriter
from .pipeline import MissingColumn, read_rows, score_rows


async def run(args: argparse.Namespace, writer: ResultWriter, progress: tqdm) -> dict:
    rows = read_rows(args.input, id_column=args.id_column, text_column=args.text_column)
    async with SentimentClient(args.url, deadline_s=args.deadline, max_connections=args.concurrency) as client:
        try:
            counts = await score_rows(
                rows,
                client,
                writer.write,
                concurrency=args.concurrency,
                queue_rows=args.queue_rows,
                skip=writer.done,
                on_row=progress.update,
            )
        except* ConfigurationError as group:  # the stages stopped at the first such answer: report that one
            raise first_leaf(group) from None
    return vars(counts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, prog=f"python -m {__package__}")
    if not args.input.is_file():
        print(f"error: no input file {args.input}", file=sys.stderr)
        return EXIT_USAGE
    try:
        first = next(read_rows(args.input, id_column=args.id_column, text_column=args.text_column), None)
    except MissingColumn as exc:
        print(f"error: {exc} (choose them with --id-column and --text-column)", file=sys.stderr)
        return EXIT_USAGE
    if first is not None and (problem := probe_api(args.url)):
        status, message = problem
        print(f"error: {message}", file=sys.stderr)
        return status
    total = pl.scan_csv(args.input, infer_schema=False).select(pl.len()).collect().item()
    start = time.perf_counter()
    try:
        with ResultWriter(args.out) as writer, tqdm(total=total, unit="row", file=sys.stderr) as progress:
            counts = asyncio.run(run(args, writer, progress))
    except ConfigurationError as exc:  # no row can succeed at this URL
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_MISCONFIGURED
    seconds = time.perf_counter() - start
    scored = counts["rows_ok"] + counts["rows_failed"]
    print(
        json.dumps(
            {**counts, "seconds": round(seconds, 3), "rows_per_s": round(scored / seconds, 1), "out": str(args.out)}
        )
    )
    return EXIT_ROWS_FAILED if counts["rows_failed"] else EXIT_OK
