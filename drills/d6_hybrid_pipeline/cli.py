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
    raise NotImplementedError(
        "read_rows -> score_rows with a SentimentClient, writing with writer.write, skipping writer.done"
    )


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError(
        'main: each outcome its exit status (the docstring above, README.md "The command"), '
        "with a message naming the problem; the stages under a tqdm bar; the counts as JSON last"
    )
