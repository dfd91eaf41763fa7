"""Drill d5's command line, once for the starter and the reference: ``python -m <package> --out DIR``.

Each implementation's ``__main__`` passes its own ``run_proof`` and ``POLICIES``; this module parses
the arguments, refuses in one line while this drill or the d1 it serves is unwritten, runs the proof and
prints its verdicts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlcourse.api.models import add_model_options
from mlcourse.api.process import ServerError
from mlcourse.impl import exit_unless_finished, implementation_of
from mlcourse.paths import BUILD_DIR

# Waiting requests beyond which each server answers 429, here and in the real-model check: at twice a capacity C
# it fills in about 16 / C s, within one run, where d1's own limit of 200 would take longer than a run.
PROOF_QUEUE_LIMIT = 16


def main(
    package: str, argv: list[str] | None = None, *, run_proof: Callable[..., dict[str, Any]], policies: tuple[str, ...]
) -> int:
    """By default the proof serves the d1 API of the implementation ``package`` belongs to."""
    parser = argparse.ArgumentParser(prog=f"python -m {package}", description="the backpressure proof")
    parser.add_argument("--out", type=Path, default=BUILD_DIR / "d5_backpressure")
    parser.add_argument(
        "--impl",
        default=implementation_of(package),
        help="whose d1 API to serve: drills, solutions or a folder (default: this drill's own)",
    )
    add_model_options(parser)
    parser.add_argument("--policies", default=",".join(policies), help="comma-separated: none,window,adaptive")
    parser.add_argument("--probe-s", type=float, default=2.0, help="seconds per capacity probe")
    parser.add_argument("--run-s", type=float, default=3.0, help="seconds per sweep run")
    parser.add_argument(
        "--queue-limit",
        type=int,
        default=PROOF_QUEUE_LIMIT,
        help="each server's queue limit, small enough to fill within a run at twice a capacity (default: %(default)s)",
    )
    parser.add_argument("--start-rate", type=float, default=10.0)
    parser.add_argument("--max-rate", type=float, default=2000.0)
    args = parser.parse_args(argv)
    # The proof runs this drill's own pieces and serves d1 of --impl: say in one line which is unwritten.
    exit_unless_finished(implementation_of(package), "d5_backpressure", needed_by=f"python -m {package}")
    exit_unless_finished(args.impl, "d1_sentiment_api", needed_by=f"python -m {package}")
    try:
        data = run_proof(
            args.out,
            impl=args.impl,
            model=args.model,
            fake=args.fake,
            policies=tuple(args.policies.split(",")),
            probe_s=args.probe_s,
            run_s=args.run_s,
            queue_limit=args.queue_limit,
            start_rate=args.start_rate,
            max_rate=args.max_rate,
        )
    except ServerError as error:
        print(f"the d1 server of --impl {args.impl} did not serve: {error}", file=sys.stderr)
        return 1
    print("\n".join(data["verdicts"]))
    print(f"wrote {args.out}/report.md, report.json, report.png")
    return 0
