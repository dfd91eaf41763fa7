"""Collect single requests into model batches: flush at ``max_batch_size`` texts or ``max_wait_ms``
after the first one waited, whichever comes first; refuse work beyond ``queue_limit``.

The counterpart of the Elixir BatchServer (a GenServer): one worker task owns the queue, callers
get an ``asyncio.Future`` each and await it. The model runs in a worker thread so the event loop
keeps serving while a batch computes. When a model call fails, the batch is retried in halves
until the text that fails is alone: one poisoned text costs a few extra calls, never the answers
of the honest texts batched with it (Triton and Ray Serve fail the whole batch).

With ``batching="adaptive"`` a batch runs as soon as the model is free, with whatever waited
meanwhile: batches grow only while the model is busy, and ``max_wait_ms`` is never waited out on an
idle model (Triton's dynamic batcher with no queue delay).

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

    def __init__(
        self,
        predict_batch: PredictBatch,
        *,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_wait_ms: float = MAX_WAIT_MS,
        queue_limit: int = QUEUE_LIMIT,
        batching: str = "window",
    ) -> None:
        if batching not in BATCHING_POLICIES:
            raise ValueError(f"batching must be one of {BATCHING_POLICIES}, not {batching!r}")
        self.batching = batching
        self.predict_batch = predict_batch
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.queue_limit = queue_limit
        self.batch_sizes: Counter[int] = Counter()  # size of each model call -> how many calls
        self.failure: str | None = None  # why the worker died, once it has
        # Add the state you need: a queue, how many queued callers still wait (a cancelled caller must
        # not hold a slot), the batch being collected, the worker task, whether stop() began.

    @property
    def depth(self) -> int:
        """Requests waiting for a batch (not counting the batch being collected or computed)."""
        raise NotImplementedError("Batcher.depth: return how many requests wait in the queue")

    def start(self) -> None:
        """Start the worker task; call it from inside the running event loop."""
        raise NotImplementedError(
            "Batcher.start: create the worker task (asyncio.create_task) that forms batches, and add a done "
            "callback: a worker that ends before stop() died, so record self.failure and fail every waiting future. "
            "In the worker, when predict_batch raises, retry the batch's texts in two halves (recursively) "
            "until the failing text is alone: only its future gets the exception"
        )

    async def submit(self, text: str) -> Prediction:
        """Queue one text and wait for its own prediction.

        Raises QueueFullError at once when ``queue_limit`` texts wait, BatcherClosedError when
        shutting down or when the worker died. If the caller is cancelled (its client went away),
        its future is cancelled, its queue slot is freed at once and the worker drops the text
        before it reaches the model.
        """
        raise NotImplementedError(
            "Batcher.submit: BatcherClosedError if failed or closed; QueueFullError when queue_limit live callers "
            "wait; else queue (text, a new future) without waiting and await the future (a done callback on the "
            "future frees its slot when the caller is cancelled)"
        )

    async def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Take no new work; answer what waits within ``drain_timeout_s``; reject the rest.

        After this returns, no caller is left waiting.
        """
        raise NotImplementedError(
            "Batcher.stop: refuse new texts, let the worker finish what waits (bounded in time), "
            "then set BatcherClosedError on every future still pending"
        )
