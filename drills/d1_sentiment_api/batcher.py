"""Collect single requests into model batches: flush at ``max_batch_size`` texts or ``max_wait_ms``
after the first one waited, whichever comes first; refuse work beyond ``queue_limit``.

The counterpart of the Elixir BatchServer (a GenServer): one worker task owns the queue, callers
get an ``asyncio.Future`` each and await it. The model runs in a worker thread so the event loop
keeps serving while a batch computes. When a model call fails, the batch is retried in halves
until the text that fails is alone: one poisoned text costs a few extra calls, never the answers
of the honest texts batched with it (Triton and Ray Serve fail the whole batch).

With ``batching="adaptive"`` a batch runs as soon as the model is free, with what waited
meanwhile, up to ``max_batch_size``; ``max_wait_ms`` is never waited out on an idle model (Triton's
dynamic batcher with no queue delay).

The checks only call ``create_app`` (app.py): shape this module as you like, this layout is a
suggestion that works.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from mlcourse.api.contract import MAX_BATCH_SIZE, MAX_WAIT_MS, QUEUE_LIMIT, PredictBatch, Prediction

BATCHING_POLICIES = ("window", "adaptive")  # size-or-timeout, or run as soon as the model is free


class QueueFullError(Exception):
    """``queue_limit`` requests are already waiting: the caller should answer 429."""


class BatcherClosedError(Exception):
    """The batcher is shutting down, or its worker died: it takes no new work and fails what waits."""


class Batcher:
    """Size-or-timeout batcher with a bounded queue in front of a ``predict_batch`` function."""

    batch_sizes: Counter[int]  # size of each model call -> how many calls, the halving retries included
    failure: str | None  # why the worker died, once it has (app.py reads it for 503 and /healthz)

    def __init__(
        self,
        predict_batch: PredictBatch,
        *,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_wait_ms: float = MAX_WAIT_MS,
        queue_limit: int = QUEUE_LIMIT,
        batching: str = "window",
    ) -> None:
        self.batching = batching
        if self.batching not in BATCHING_POLICIES:
            raise ValueError(f"batching is {batching!r}; choose one of {BATCHING_POLICIES}")
        self.predict_batch = predict_batch
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.queue_limit = queue_limit
        self.batch_sizes = Counter()
        self.failure = None
        # Add the state the goals below need: a cancelled caller frees its slot at once, a dead worker
        # fails every caller, stop() answers or rejects everything that waits.

    @property
    def depth(self) -> int:
        """Requests waiting for a batch (not counting the batch being collected or computed)."""
        raise NotImplementedError(
            "Batcher.depth: how many requests wait for a batch, a cancelled caller not counted."
            " Taught in notebook 05, section 6; stuck: README.md, Hints."
        )

    def start(self) -> None:
        """Start the worker task; call it from inside the running event loop."""
        raise NotImplementedError(
            "Batcher.start: start the one worker task that forms batches (up to max_batch_size texts, or what waits "
            "max_wait_ms after the first one queued; batching='adaptive' as README.md says), runs the model in a "
            "worker thread, lets a poisoned text fail alone, and whose death fails every caller (BatcherClosedError)"
            " instead of leaving them to hang."
            " Taught in notebook 05, section 12; stuck: README.md, Hints."
        )

    async def submit(self, text: str) -> Prediction:
        """Queue one text and wait for its own prediction.

        Raises QueueFullError at once when ``queue_limit`` texts wait, BatcherClosedError when
        shutting down or when the worker died. If the caller is cancelled (its client went away),
        its future is cancelled, its queue slot is freed at once and the worker drops the text
        before it reaches the model.
        """
        raise NotImplementedError(
            "Batcher.submit: this text's own prediction; QueueFullError at once when queue_limit callers wait (a "
            "cancelled caller frees its slot at once), BatcherClosedError when stopping or after the worker died."
            " Taught in notebook 05, section 6; stuck: README.md, Hints."
        )

    async def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Take no new work; answer what waits within ``drain_timeout_s``; reject the rest.

        After this returns, no caller is left waiting.
        """
        raise NotImplementedError(
            "Batcher.stop: take no new work, answer what waits within drain_timeout_s and reject the rest with "
            "BatcherClosedError: after it returns, no caller is left waiting."
            " Taught in notebook 05, section 11; stuck: README.md, Hints."
        )
