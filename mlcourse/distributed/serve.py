"""Serve drill d1's API on Ray Serve: ``make serve-ray`` (a local single-node cluster).

    python -m mlcourse.distributed.serve [--impl solutions] [--port 8000] [--fake-cost CALL_MS,PER_TEXT_MS]
                                         [--replicas N | --max-replicas N] [--queue-limit 200]

Without ``RAY_ADDRESS`` it starts a local cluster of ``--cpus`` CPUs and stops it on Ctrl-C.
With ``RAY_ADDRESS=HEAD_IP:6379`` (a cluster started by ``ray start --head``) it deploys the same
application there, with the cluster's token (README: "Beyond one machine"); replicas are then placed
on any node with a free CPU, and Ctrl-C removes only this application. A cluster it cannot join is
an error within seconds (exit status 3), naming the token to give.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from mlcourse.api.models import add_model_options
from mlcourse.distributed import cluster
from mlcourse.distributed.app import APP_NAME, QUEUE_LIMIT, run, sentiment_app
from mlcourse.distributed.model import ModelSpec
from mlcourse.impl import exit_unless_finished, reference_impl

EXIT_NO_CLUSTER = 3  # RAY_ADDRESS names a cluster this machine cannot join (the message says why)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.distributed.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--impl", default=reference_impl(), help="whose d1 input parsing: drills, solutions or a folder"
    )
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
    exit_unless_finished(args.impl, "d1_sentiment_api", needed_by="python -m mlcourse.distributed.serve")
    spec = ModelSpec(model=args.model, fake=args.fake)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the same way as on Ctrl-C
    started = time.perf_counter()
    try:
        cluster.start(args.cpus)
        url = run(
            sentiment_app(
                spec,
                impl=args.impl,
                replicas=args.replicas,
                max_replicas=args.max_replicas,
                queue_limit=args.queue_limit,
            ),
            args.port,
            args.host,
        )
        print(
            f"serving on {url} after {time.perf_counter() - started:.1f} s "
            "(POST /api/sentiment, GET /healthz, GET /metrics); Ctrl-C stops",
            flush=True,
        )
        threading.Event().wait()
    except cluster.ClusterError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        os._exit(EXIT_NO_CLUSTER)  # Ray's own connection thread may still be retrying: do not wait for it
    except KeyboardInterrupt:
        pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, lambda *_: print("stopping: Ray is shutting down", file=sys.stderr, flush=True))
        left = cluster.stop(app_name=APP_NAME)
        what = f"application {APP_NAME!r} removed, the cluster left up" if cluster.joined() else "cluster stopped"
        print(f"{what}{f'; Ray left processes behind: {left}' if left else ''}", file=sys.stderr, flush=True)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
