"""Drill d6's command line, once for the starter and the reference: its arguments, its exit codes, and
the probe that tells an unreachable API from a wrong ``--url`` (the d6 benchmark's ``--url`` uses it too)."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx

from mlcourse.pipeline.errors import MISDIRECTED, ConfigurationError

# What the command's exit status says (1 stays Python's own, for an uncaught exception):
EXIT_OK = 0  # every row scored
EXIT_USAGE = 2  # bad arguments or input, e.g. a missing column (argparse's status too)
EXIT_UNREACHABLE = 3  # nothing answers at --url
EXIT_MISCONFIGURED = 4  # something answers at --url, but not the sentiment API: stopped at its first answer
EXIT_ROWS_FAILED = 5  # every row written, some without a prediction (refused by the API, or out of retries or time)


def probe_api(url: str, timeout_s: float = 5.0) -> tuple[int, str] | None:
    """None when the sentiment API answers at base URL ``url`` (``/healthz``, even 503 while it loads);
    otherwise the exit status and a message naming the URL: unreachable, or not the API's base URL."""
    healthz = f"{url.rstrip('/')}/healthz"
    try:
        response = httpx.get(healthz, timeout=timeout_s)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return EXIT_MISCONFIGURED, f"--url {url} is not an http:// URL of the sentiment API ({exc})"
    except httpx.HTTPError as exc:
        return EXIT_UNREACHABLE, (
            f"cannot reach the sentiment API at {url}: {type(exc).__name__}: {exc}. Is it running (make serve)?"
        )
    if response.status_code in MISDIRECTED:
        return EXIT_MISCONFIGURED, str(ConfigurationError(healthz, f"HTTP {response.status_code}", url))
    return None


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
