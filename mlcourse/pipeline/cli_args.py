"""Drill d6's command-line contract, once for the starter and the reference: its arguments and exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_USAGE, EXIT_UNREACHABLE = 2, 3


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description="Score every row of a CSV through the sentiment API.")
    parser.add_argument("input", type=Path, help="CSV with an id and a text column")
    parser.add_argument("--url", required=True, help="base URL of the sentiment API, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, required=True, help="output CSV (id,label,score,error); resumed if present")
    parser.add_argument("--id-column", default="id")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--concurrency", type=positive_int, default=8, help="requests in flight at most")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds per text, retries included")
    parser.add_argument("--queue-rows", type=int, default=64, help="rows each queue holds; 0 = unbounded")
    return parser.parse_args(argv)
