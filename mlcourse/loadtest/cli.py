"""Load-test the sentiment API served by uvicorn in a child process, on a free loopback port.

    python -m mlcourse.loadtest --impl solutions --rate 100 --duration 20
    python -m mlcourse.loadtest --rates 50,100,200,300 --duration 10

One rate: open-loop load at that rate, p50/p95/p99 of the 200s, status counts. Several rates:
the same for each, then the highest rate whose p99 stays under ``--p99-ms`` (250) with at
least 99 % answered 200 (the sustainable rate), and a run at twice that rate to show the
share of 429s once the queue saturates. Writes ``report.md``, ``report.json`` and
``report.png`` to ``build/loadtest/`` and prints the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlcourse.api.models import add_model_options
from mlcourse.api.process import ServerError, served
from mlcourse.impl import exit_unless_finished, reference_impl
from mlcourse.loadtest.measure import P99_TARGET_MS, Run, measure, sweep
from mlcourse.loadtest.render import HEADER, format_row, write
from mlcourse.paths import BUILD_DIR, REPO_ROOT


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--impl",
        default=reference_impl(),
        help="drills, solutions or a folder (default: solutions, or drills in the learners' bundle)",
    )
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (one run)")
    parser.add_argument("--rates", default=None, help="comma-separated rates: find the sustainable one")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per rate")
    parser.add_argument("--p99-ms", type=float, default=P99_TARGET_MS)
    add_model_options(parser)
    parser.add_argument("--out", type=Path, default=BUILD_DIR / "loadtest")
    return parser.parse_args(argv)


def print_run(run: Run, note: str) -> None:
    print(format_row(run) + (f"   <- {note}" if note else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_unless_finished(args.impl, "d1_sentiment_api", needed_by="python -m mlcourse.loadtest")
    rates = [float(r) for r in args.rates.split(",")] if args.rates else [args.rate]
    model = str(args.fake) if args.fake else args.model or "default (data/models/sentiment-minilm)"
    config = {"impl": args.impl, "model": model, "rates": rates, "duration_s": args.duration}
    try:
        with served(args.impl, model=args.model, fake=args.fake, log_path=args.out / "server.log") as server:
            base_url = server.url
            print(f"serving {args.impl} at {base_url}; open-loop load, {args.duration:.0f} s per rate", flush=True)
            print(HEADER, flush=True)
            if len(rates) == 1:
                run = measure(base_url, rates[0], args.duration)
                print(format_row(run))
                runs, sustainable, overload = [run], None, None
            else:
                runs, sustainable, overload = sweep(base_url, rates, args.duration, args.p99_ms, on_run=print_run)
    except ServerError as error:
        print(error, file=sys.stderr)
        return 1
    files = write(args.out, config, runs, sustainable, overload, args.p99_ms).values()
    if len(rates) > 1:
        print(f"sustainable rate (p99 < {args.p99_ms:.0f} ms): {sustainable}")
        if overload:
            print(f"429 share at {overload.result.rate:.0f}/s: {overload.result.share(429):.1%}")
    print("wrote " + ", ".join(str(f.relative_to(REPO_ROOT)) if f.is_relative_to(REPO_ROOT) else str(f) for f in files))
    return 0
