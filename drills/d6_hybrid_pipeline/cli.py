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
from pathlib import Path

import httpx
import polars as pl
from tqdm import tqdm

from .client import SentimentClient
from .output import ResultWriter
from .pipeline import MissingColumn, read_rows, score_rows

EXIT_USAGE, EXIT_UNREACHABLE = 2, 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}", description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="CSV with an id and a text column")
    parser.add_argument("--url", required=True, help="base URL of the sentiment API, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, required=True, help="output CSV (id,label,score,error); resumed if present")
    parser.add_argument("--id-column", default="id")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--concurrency", type=positive_int, default=8, help="requests in flight at most")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds per text, retries included")
    parser.add_argument("--queue-rows", type=int, default=64, help="rows each queue holds; 0 = unbounded")
    return parser.parse_args(argv)


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def check_reachable(url: str) -> str | None:
    """None when something answers HTTP at ``url`` (even 503 while the model loads), else why not."""
    raise NotImplementedError('GET {url}/healthz; any HTTP answer means reachable; an httpx.HTTPError means not: say so, naming the URL')


async def run(args: argparse.Namespace, writer: ResultWriter, progress: tqdm) -> dict:
    raise NotImplementedError('read_rows -> score_rows with a SentimentClient, writing with writer.write, skipping writer.done')


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError('exit 2 with a message for a missing file or column, 3 for an unreachable API; run the stages under a tqdm bar; print the counts as JSON last')
