"""Collect single requests into model batches: flush at ``max_batch_size`` texts or ``max_wait_ms``
after the first one waited, whichever comes first; refuse work beyond ``queue_limit``.

The counterpart of the Elixir BatchServer (a GenServer): one worker task owns the queue, callers
get an ``asyncio.Future`` each and await it. The model runs in a worker thread so the event loop
keeps serving while a batch computes.

The checks only call ``create_app`` (app.py): shape this module as you like, this layout is a
suggestion that works.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from mlcourse.api.contract import PredictBatch, Prediction


class QueueFullError(Exception):
    """``queue_limit`` requests are already waiting: the caller should answer 429."""


class BatcherClosedError(Exception):
    """The batcher is shutting down: it takes no new work, and rejects what it could not finish."""


class Batcher:
    """Size-or-timeout batcher with a bounded queue in front of a ``predict_batch`` function."""

    def __init__(
        self,
        predict_batch: PredictBatch,
        *,
        max_batch_size: int = 16,
        max_wait_ms: float = 50.0,
        queue_limit: int = 200,
    ) -> None:
        self.predict_batch = predict_batch
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.queue_limit = queue_limit
        self.batch_sizes: Counter[int] = Counter()  # size of each model call -> how many calls
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_limit)

    @property
    def depth(self) -> int:
        """Requests waiting for a batch (not counting the batch being collected or computed)."""
        raise NotImplementedError("Batcher.depth: return how many requests wait in the queue")

    def start(self) -> None:
        """Start the worker task; call it from inside the running event loop."""
        raise NotImplementedError("Batcher.start: create the worker task (asyncio.create_task) that forms batches")

    async def submit(self, text: str) -> Prediction:
        """Queue one text and wait for its own prediction.

        Raises QueueFullError at once when ``queue_limit`` texts wait, BatcherClosedError when
        shutting down. If the caller is cancelled (its client went away), its future is
        cancelled and the worker drops the text before it reaches the model.
        """
        raise NotImplementedError(
            "Batcher.submit: put (text, a new future) on the queue without waiting (put_nowait; "
            "QueueFullError when full), then await the future"
        )

    async def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Take no new work; answer what waits within ``drain_timeout_s``; reject the rest.

        After this returns, no caller is left waiting.
        """
        raise NotImplementedError(
            "Batcher.stop: refuse new texts, let the worker finish what waits (bounded in time), "
            "then set BatcherClosedError on every future still pending"
        )
