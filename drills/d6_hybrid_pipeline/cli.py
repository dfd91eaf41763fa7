"""Score every row of a CSV through the sentiment API; resumable; the last stdout line is JSON.

    python -m <package> INPUT.csv --url URL --out OUT.csv [--id-column id] [--text-column text]
                        [--concurrency N] [--deadline SECONDS] [--queue-rows N]

The exit status says what happened (``mlcourse.drill_commands.d6_hybrid_pipeline``): 0 every row scored, 5 every
row written but some without a prediction (their reason is in the output), 2 bad arguments or
input (no such file, a missing column: checked before the URL, so it wins over a bad ``--url``), 3 the API
cannot be reached, 4 ``--url`` is not the API's base URL.
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
        "d6: run must score the input's rows through the API into the writer, skipping the ids it has done, and "
        "return the counts for the JSON line. Taught in notebook 08, sections 5 and 7; stuck: README.md, Hints."
    )


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError(
        "d6: main must give each outcome its exit status with a message naming the problem (README.md, The "
        "command), show progress on stderr and print the counts as JSON last. Taught in notebook 08, section 6; "
        "stuck: README.md, Hints."
    )
