"""Score every row of a CSV through the sentiment API; resumable; the last stdout line is JSON.

    python -m <package> INPUT.csv --url URL --out OUT.csv [--id-column id] [--text-column text]
                        [--concurrency N] [--deadline SECONDS] [--queue-rows N]

Exit status: 0 done (rows the API refused are in the output, with their reason), 2 bad
arguments or input (a missing column), 3 the API cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx
import polars as pl
from tqdm import tqdm

from mlcourse.pipeline.cli_args import EXIT_UNREACHABLE, EXIT_USAGE, parse_args

from .client import SentimentClient
from .output import ResultWriter
from .pipeline import MissingColumn, read_rows, score_rows


def check_reachable(url: str) -> str | None:
    """None when something answers HTTP at ``url`` (even 503 while the model loads), else why not."""
    try:
        httpx.get(f"{url.rstrip('/')}/healthz", timeout=5.0)
    except httpx.HTTPError as exc:
        return f"cannot reach the sentiment API at {url}: {type(exc).__name__}: {exc}. Is it running (make serve)?"
    return None


async def run(args: argparse.Namespace, writer: ResultWriter, progress: tqdm) -> dict:
    rows = read_rows(args.input, id_column=args.id_column, text_column=args.text_column)
    async with SentimentClient(args.url, deadline_s=args.deadline, max_connections=args.concurrency) as client:
        counts = await score_rows(rows, client, writer.write, concurrency=args.concurrency,
                                  queue_rows=args.queue_rows, skip=writer.done, on_row=progress.update)
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
    if first is not None and (problem := check_reachable(args.url)):
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_UNREACHABLE
    total = pl.scan_csv(args.input, infer_schema=False).select(pl.len()).collect().item()
    start = time.perf_counter()
    with ResultWriter(args.out) as writer, tqdm(total=total, unit="row", file=sys.stderr) as progress:
        counts = asyncio.run(run(args, writer, progress))
    seconds = time.perf_counter() - start
    scored = counts["rows_ok"] + counts["rows_failed"]
    print(json.dumps({**counts, "seconds": round(seconds, 3), "rows_per_s": round(scored / seconds, 1),
                      "out": str(args.out)}))
    return 0
