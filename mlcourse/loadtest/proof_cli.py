"""Drill d5's command line, once for the starter and the reference: ``python -m <impl>.d5_backpressure --out DIR``.

Each implementation's ``__main__`` passes its own ``run_proof`` and ``POLICIES``; this module parses
the arguments, runs the proof and prints its verdicts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlcourse.loadtest.server import ServerError
from mlcourse.paths import BUILD_DIR


def main(argv: list[str] | None, *, run_proof: Callable[..., dict[str, Any]], policies: tuple[str, ...],
         impl: str) -> int:
    """``impl`` is whose d1 API the proof serves by default: the package's own (drills or solutions)."""
    parser = argparse.ArgumentParser(prog=f"python -m {impl}.d5_backpressure", description="the backpressure proof")
    parser.add_argument("--out", type=Path, default=BUILD_DIR / "d5_backpressure")
    parser.add_argument("--impl", default=impl, help="whose d1 API to serve: drills, solutions or a folder")
    parser.add_argument("--model", default=None, help="a model folder (default: the built offline model)")
    parser.add_argument("--fake-cost", default=None, metavar="CALL_MS,PER_TEXT_MS", help="serve the fake model")
    parser.add_argument("--policies", default=",".join(policies), help="comma-separated: none,window,adaptive")
    parser.add_argument("--probe-s", type=float, default=2.0, help="seconds per capacity probe")
    parser.add_argument("--run-s", type=float, default=3.0, help="seconds per sweep run")
    parser.add_argument("--start-rate", type=float, default=10.0)
    parser.add_argument("--max-rate", type=float, default=2000.0)
    args = parser.parse_args(argv)
    try:
        data = run_proof(args.out, impl=args.impl, model=args.model, fake_cost=args.fake_cost,
                         policies=tuple(args.policies.split(",")), probe_s=args.probe_s, run_s=args.run_s,
                         start_rate=args.start_rate, max_rate=args.max_rate)
    except ServerError as error:
        print(f"the d1 server of --impl {args.impl} did not serve: {error}", file=sys.stderr)
        return 1
    print("\n".join(data["verdicts"]))
    print(f"wrote {args.out}/report.md, report.json, report.png")
    return 0
