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

from mlcourse.pipeline.cli_args import EXIT_UNREACHABLE, EXIT_USAGE, parse_args

from .client import SentimentClient
from .output import ResultWriter
from .pipeline import MissingColumn, read_rows, score_rows

def check_reachable(url: str) -> str | None:
    """None when something answers HTTP at ``url`` (even 503 while the model loads), else why not."""
    raise NotImplementedError('GET {url}/healthz; any HTTP answer means reachable; an httpx.HTTPError means not: say so, naming the URL')


async def run(args: argparse.Namespace, writer: ResultWriter, progress: tqdm) -> dict:
    raise NotImplementedError('read_rows -> score_rows with a SentimentClient, writing with writer.write, skipping writer.done')


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError('exit 2 with a message for a missing file or column, 3 for an unreachable API; run the stages under a tqdm bar; print the counts as JSON last')
