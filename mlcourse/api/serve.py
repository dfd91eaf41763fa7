"""Serve drill d1's sentiment API under uvicorn: ``make serve`` (reference) or ``make serve IMPL=drills``.

    python -m mlcourse.api.serve --impl drills|solutions|PATH --port 8000 [--host 127.0.0.1] [--model ID_OR_PATH]
                                 [--body-timeout SECONDS]
                                 [--batching window|adaptive|none] [--max-batch-size N] [--max-wait-ms MS]
                                 [--queue-limit N] [--fake-cost CALL_MS,PER_TEXT_MS]

The app comes from ``create_app`` of the chosen implementation; the model is the offline
default built by ``python -m mlcourse.sentiment.build`` unless ``--model`` names another
(a local folder, or a hub id where the hub is reachable). ``--fake`` serves the deterministic
fake model instead, to try the batching without PyTorch. The model loads in the background:
``/healthz`` answers 503 until it is ready. A request body that has not fully arrived within
``--body-timeout`` seconds (default 10) gets 408; Ctrl-C runs the app's drain first, so open
connections cannot stretch the exit beyond it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import uvicorn

from mlcourse.api.contract import BODY_TIMEOUT_S, DRILL, PredictBatch
from mlcourse.api.loopback import DrainFirstServer
from mlcourse.api.models import add_model_options, model_loader
from mlcourse.impl import ImplementationError, load_drill, reference_impl


def build_app(
    impl: str, loader: Callable[[], PredictBatch], body_timeout_s: float = BODY_TIMEOUT_S, **batching: Any
) -> Any:
    """The implementation's ``create_app(load_model=...)``: its defaults are the drill's limits, unless
    ``batching`` (from :func:`batching_options`) overrides some."""
    create_app = load_drill(impl, DRILL).module("app").create_app
    if body_timeout_s != BODY_TIMEOUT_S:  # only then: an app written before the option existed still serves
        batching["body_timeout_s"] = body_timeout_s
    return create_app(load_model=loader, **batching)


def batching_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``create_app`` limits the command line set (the rest keep the drill's defaults).

    ``none`` is a batch size of 1; ``adaptive``: a batch runs as soon as the model is free, with what
    waited meanwhile, up to ``max_batch_size`` (``max_wait_ms`` is never waited out on an idle model);
    ``window`` is the drill's size-or-timeout flush.
    """
    options = {
        "max_batch_size": 1 if args.batching == "none" else args.max_batch_size,
        "max_wait_ms": args.max_wait_ms,
        "queue_limit": args.queue_limit,
        "batching": "adaptive" if args.batching == "adaptive" else None,
    }
    return {name: value for name, value in options.items() if value is not None}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.api.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--impl",
        default=reference_impl(),
        help="drills (your code), solutions (reference) or a folder (default: solutions, "
        "or drills in the learners' bundle)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    add_model_options(parser)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="model threads (default: torch half the CPUs, leaving the rest to the event loop and clients; "
        "XLA every CPU, see mlcourse.encoder.threads)",
    )
    parser.add_argument(
        "--backend",
        choices=["torch", "jax"],
        default="torch",
        help="torch (Transformers on PyTorch) or jax (the Flax NNX port compiled per bucket, float32)",
    )
    parser.add_argument(
        "--precision",
        choices=["int8", "float32"],
        default="int8",
        help="int8 (default): dynamic quantisation of the linear layers, faster on CPU (notebook 04)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=BODY_TIMEOUT_S,
        help="seconds a client may take to send its body before a 408 (default: %(default)s)",
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request (load tests)")
    parser.add_argument(
        "--batching",
        choices=["window", "adaptive", "none"],
        default="window",
        help="window (the drill's size-or-timeout), adaptive (a batch runs as soon as the model is free), none",
    )
    parser.add_argument("--max-batch-size", type=int, default=None, help="texts per model call (1: no batching)")
    parser.add_argument("--max-wait-ms", type=float, default=None, help="longest wait for a batch to fill")
    parser.add_argument("--queue-limit", type=int, default=None, help="waiting requests beyond which 429")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        loader = model_loader(
            args.model, fake=args.fake, num_threads=args.threads, int8=args.precision == "int8", backend=args.backend
        )
        app = build_app(args.impl, loader, args.body_timeout, **batching_options(args))
    except NotImplementedError as error:
        print(f"--impl {args.impl}: create_app is not written yet: {error}", file=sys.stderr)
        return 1
    except (TypeError, ValueError) as error:  # e.g. a create_app without the adaptive policy, or a bad limit
        print(f"--impl {args.impl}: create_app refused these batching options: {error}", file=sys.stderr)
        return 2
    except (ImplementationError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        timeout_graceful_shutdown=1,
    )
    with suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled, as uvicorn.run also swallows
        DrainFirstServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
