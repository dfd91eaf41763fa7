"""Which model d1 serves, and how it is loaded: one home for every server of the course.

``make serve``, the Ray Serve deployment, the load tests, the chaos run and the encoder
benchmark all serve through :func:`model_loader`, so each of them serves the same model with the
same knobs. The fake model has one route: a :class:`FakeCost`, whose default is roughly the shape of
MiniLM's cost on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from mlcourse.api.contract import PredictBatch
from mlcourse.api.fake_model import FakeSentimentModel


@dataclass(frozen=True)
class FakeCost:
    """The fake model's cost per batch, ``call_s + per_text_s * len(texts)``: a capacity known in advance."""

    call_s: float = 0.005
    per_text_s: float = 0.001

    @classmethod
    def parse(cls, value: str) -> FakeCost:
        """``CALL_MS,PER_TEXT_MS`` (as on every command line, e.g. ``5,1``) -> a cost in seconds."""
        try:
            call_ms, per_text_ms = (float(part) for part in value.split(","))
        except ValueError:
            raise ValueError(f"expected CALL_MS,PER_TEXT_MS such as 5,1, not {value!r}") from None
        if call_ms < 0 or per_text_ms < 0:
            raise ValueError("the fake model's costs must be >= 0 ms")
        return cls(call_ms / 1000, per_text_ms / 1000)

    @property
    def flag(self) -> str:
        """The same cost as a command line writes it (``--fake-cost``)."""
        return f"{self.call_s * 1000:g},{self.per_text_s * 1000:g}"

    def capacity(self, batch: int) -> float:
        """Requests per second with full batches of ``batch``, back to back."""
        return batch / (self.call_s + batch * self.per_text_s)

    def __str__(self) -> str:
        return f"fake model at {self.call_s * 1000:.1f} ms per call + {self.per_text_s * 1000:.1f} ms per text"


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--fake`` and ``--fake-cost``, the same on every command that serves d1 (``args.fake``)."""
    parser.add_argument("--model", default=None, help="hub id or local folder (default: the built offline model)")
    fake = parser.add_mutually_exclusive_group()
    fake.add_argument(
        "--fake",
        action="store_const",
        const=FakeCost(),
        dest="fake",
        help="serve the deterministic fake model (no PyTorch) at its default cost",
    )
    fake.add_argument(
        "--fake-cost",
        type=fake_cost_argument,
        dest="fake",
        metavar="CALL_MS,PER_TEXT_MS",
        help="serve the fake model costing CALL_MS + PER_TEXT_MS per text for each batch",
    )


def fake_cost_argument(value: str) -> FakeCost:
    """``--fake-cost CALL_MS,PER_TEXT_MS``, as argparse reads it (a bad value is a usage error)."""
    try:
        return FakeCost.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def default_threads() -> int:
    """Half the CPUs for the model: torch's threads spin while they wait for each other, and on a
    machine whose other cores serve HTTP (and here the load generator) every batch then waits for
    the slowest thread. On 2 cores one torch thread answered batches several times faster under load."""
    return max(1, (os.cpu_count() or 2) // 2)


def model_loader(
    model: str | None = None,
    *,
    fake: FakeCost | None = None,
    num_threads: int | None = None,
    int8: bool = True,
    backend: str = "torch",
) -> Callable[[], PredictBatch]:
    """A blocking function that loads the model and returns its ``predict_batch``; the app runs it in the background.

    ``fake`` serves the deterministic fake model at that cost instead; otherwise ``model`` is a hub
    id or a local folder (``None``: the offline default, which must be built first). ``num_threads``
    ``None`` gives torch half the cores (:func:`default_threads`) and XLA every core (``mlcourse.encoder.threads``).
    """
    if fake is not None:
        return lambda: FakeSentimentModel(call_s=fake.call_s, per_text_s=fake.per_text_s).predict_batch
    from mlcourse.sentiment.loading import resolve_source

    resolve_source(model)  # fail now, with the build command, if the default model is not built

    def load() -> PredictBatch:
        if backend == "jax":  # the course's Flax NNX port, every bucket compiled at load (notebook 09)
            from mlcourse.encoder.serving import load_jax_serving

            serving = load_jax_serving(model, num_threads=num_threads)  # None: every core (threads.py says why)
            print(serving.summary(), file=sys.stderr, flush=True)  # the server's log: device, buckets, load time
            return serving.predict_batch
        from mlcourse.sentiment import load_serving

        threads = default_threads() if num_threads is None else num_threads
        return load_serving(model, num_threads=threads, int8=int8).predict_batch

    return load
