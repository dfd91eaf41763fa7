"""Serve drill d1's sentiment API under uvicorn: ``make serve`` (reference) or ``make serve IMPL=drills``.

    python -m mlcourse.api.serve --impl drills|solutions|PATH --port 8000 [--host 127.0.0.1] [--model ID_OR_PATH]

The app comes from ``create_app`` of the chosen implementation; the model is the offline
default built by ``python -m mlcourse.sentiment.build`` unless ``--model`` names another
(a local folder, or a hub id where the hub is reachable). ``--fake`` serves the deterministic
fake model instead, to try the batching without PyTorch. The model loads in the background:
``/healthz`` answers 503 until it is ready.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from mlcourse.api.contract import PredictBatch
from mlcourse.api.fake_model import FakeSentimentModel
from mlcourse.impl import ImplementationError, load_drill

DRILL = "d1_sentiment_api"
FAKE_CALL_S, FAKE_PER_TEXT_S = 0.005, 0.001  # roughly the shape of MiniLM's cost on 2 cores


def model_loader(
    model: str | None, *, fake: bool = False, num_threads: int | None = None, int8: bool = True
) -> Callable[[], PredictBatch]:
    """A blocking function that loads the model and returns its ``predict_batch``; the app runs it in the background."""
    if fake:
        return lambda: FakeSentimentModel(call_s=FAKE_CALL_S, per_text_s=FAKE_PER_TEXT_S).predict_batch
    from mlcourse.sentiment.loading import resolve_source

    resolve_source(model)  # fail now, with the build command, if the default model is not built

    def load() -> PredictBatch:
        from mlcourse.sentiment import load_serving

        return load_serving(model, num_threads=num_threads, int8=int8).predict_batch

    return load


def default_threads() -> int:
    """Half the CPUs for the model: torch's threads spin while they wait for each other, and on a
    machine whose other cores serve HTTP (and here the load generator) every batch then waits for
    the slowest thread. On 2 cores one torch thread answered batches several times faster under load."""
    return max(1, (os.cpu_count() or 2) // 2)


def build_app(impl: str, loader: Callable[[], PredictBatch]) -> Any:
    """The implementation's ``create_app(load_model=...)``: its defaults are the drill's limits."""
    create_app = load_drill(impl, DRILL).module("app").create_app
    return create_app(load_model=loader)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.api.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default="solutions", help="drills (your code), solutions (reference) or a folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default=None, help="hub id or local folder (default: the built offline model)")
    parser.add_argument("--fake", action="store_true", help="serve the deterministic fake model (no PyTorch)")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="torch threads (default: half the CPUs, leaving the rest to the event loop and clients)")
    parser.add_argument("--precision", choices=["int8", "float32"], default="int8",
                        help="int8 (default): dynamic quantisation of the linear layers, faster on CPU (notebook 04)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request (load tests)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        loader = model_loader(args.model, fake=args.fake, num_threads=args.threads, int8=args.precision == "int8")
        app = build_app(args.impl, loader)
    except NotImplementedError as error:
        print(f"--impl {args.impl}: create_app is not written yet: {error}", file=sys.stderr)
        return 1
    except (ImplementationError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=not args.no_access_log, timeout_graceful_shutdown=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
