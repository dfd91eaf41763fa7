"""Serve drill d1's API on Ray Serve: ``make serve-ray`` (a local single-node cluster).

    python -m mlcourse.distributed.serve [--impl solutions] [--port 8000] [--fake-cost CALL_MS,PER_TEXT_MS]
                                         [--replicas N | --max-replicas N] [--queue-limit 200]

Without ``RAY_ADDRESS`` it starts a local cluster of ``--cpus`` CPUs and stops it on Ctrl-C.
With ``RAY_ADDRESS=HEAD_IP:6379`` (a cluster started by ``ray start --head``) it deploys the same
application there; replicas are then placed on any node with a free CPU.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from mlcourse.api.models import add_model_options
from mlcourse.distributed import cluster
from mlcourse.distributed.app import QUEUE_LIMIT, run, sentiment_app
from mlcourse.distributed.model import ModelSpec
from mlcourse.impl import reference_impl


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.distributed.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default=reference_impl(), help="whose d1 input parsing: drills, solutions or a folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    add_model_options(parser)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local cluster (ignored with RAY_ADDRESS)")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--replicas", type=int, default=1, help="a fixed number of model replicas")
    scale.add_argument("--max-replicas", type=int, default=None, help="autoscale from 1 up to this many replicas")
    parser.add_argument("--queue-limit", type=int, default=QUEUE_LIMIT, help="waiting requests beyond which 429")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec = ModelSpec(model=args.model, fake=args.fake)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    started = time.perf_counter()
    cluster.start(args.cpus)
    try:
        url = run(sentiment_app(spec, impl=args.impl, replicas=args.replicas, max_replicas=args.max_replicas,
                                queue_limit=args.queue_limit), args.port, args.host)
        print(f"serving on {url} after {time.perf_counter() - started:.1f} s "
              "(POST /api/sentiment, GET /healthz, GET /metrics); Ctrl-C stops", flush=True)
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        left = cluster.stop()
        if left:
            print(f"Ray left processes behind: {left}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
