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
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from mlcourse.api.contract import MAX_BATCH_SIZE, MAX_WAIT_MS, QUEUE_LIMIT, PredictBatch, Prediction

BATCHING_POLICIES = ("window", "adaptive")  # size-or-timeout, or run as soon as the model is free


class QueueFullError(Exception):
    """``queue_limit`` requests are already waiting: the caller should answer 429."""


class BatcherClosedError(Exception):
    """The batcher is shutting down, or its worker died: it takes no new work and fails what waits."""


@dataclass
class _Waiting:
    text: str
    future: asyncio.Future[Prediction]
    enqueued_at: float = field(default_factory=time.monotonic)
    queued: bool = True  # still in the queue: it counts against queue_limit while its caller waits


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
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()  # bounded by _waiting, which skips cancelled callers
        self._waiting = 0  # queued texts whose callers still wait
        self._batch: list[_Waiting] = []  # taken from the queue, not answered yet
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def depth(self) -> int:
        """Requests waiting for a batch (not counting the batch being collected or computed)."""
        return self._waiting

    def start(self) -> None:
        """Start the worker task; call it from inside the running event loop."""
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="batcher")
            self._worker.add_done_callback(self._worker_done)

    async def submit(self, text: str) -> Prediction:
        """Queue one text and wait for its own prediction.

        Raises QueueFullError at once when ``queue_limit`` texts wait, BatcherClosedError when
        shutting down or when the worker died. If the caller is cancelled (its client went away),
        its future is cancelled, its queue slot is freed at once and the worker drops the text
        before it reaches the model.
        """
        if self.failure is not None:
            raise BatcherClosedError(self.failure)
        if self._closed or self._worker is None:
            raise BatcherClosedError("the batcher is not running")
        if self._waiting >= self.queue_limit:
            raise QueueFullError(f"{self.queue_limit} requests are already waiting")
        waiting = _Waiting(text, asyncio.get_running_loop().create_future())
        waiting.future.add_done_callback(lambda _: self._unqueue(waiting))
        self._waiting += 1
        self._queue.put_nowait(waiting)
        return await waiting.future

    def _unqueue(self, waiting: _Waiting) -> None:
        if waiting.queued:
            waiting.queued = False
            self._waiting -= 1

    async def _work(self) -> None:
        while not (self._closed and self._queue.empty()):
            await self._collect()
            await self._run()

    async def _collect(self) -> None:
        """Fill ``self._batch``: block for the first live text, then take more until the batch is
        full or ``max_wait`` has passed since that first text was queued."""
        while not self._batch:
            if self._closed and self._queue.empty():
                return
            self._take(await self._queue.get())
        if self.batching == "adaptive":  # the model is free now: take what waits, never wait for more
            while len(self._batch) < self.max_batch_size and not self._queue.empty():
                self._take(self._queue.get_nowait())
            return
        deadline = self._batch[0].enqueued_at + self.max_wait_s
        while len(self._batch) < self.max_batch_size:
            if not self._queue.empty():
                self._take(self._queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return
            try:
                async with asyncio.timeout(remaining):
                    self._take(await self._queue.get())
            except TimeoutError:
                return

    def _take(self, waiting: _Waiting) -> None:
        self._unqueue(waiting)
        if not waiting.future.done():  # a cancelled caller does not cost a batch slot
            self._batch.append(waiting)

    async def _run(self) -> None:
        await self._answer([waiting for waiting in self._batch if not waiting.future.done()])
        self._batch = []

    async def _answer(self, batch: list[_Waiting]) -> None:
        """One model call for ``batch``; if it fails, the same for each half, down to the one text that fails."""
        batch = [waiting for waiting in batch if not waiting.future.done()]  # callers may leave between retries
        if not batch:
            return
        self.batch_sizes[len(batch)] += 1
        try:
            predictions = await asyncio.to_thread(self.predict_batch, [waiting.text for waiting in batch])
            if len(predictions) != len(batch):
                raise RuntimeError(f"predict_batch returned {len(predictions)} results for {len(batch)} texts")
        except Exception as error:  # noqa: BLE001  (any model error: isolate the text that caused it)
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(error)
                return
            middle = len(batch) // 2
            await self._answer(batch[:middle])
            await self._answer(batch[middle:])
            return
        for waiting, prediction in zip(batch, predictions):
            if not waiting.future.done():
                waiting.future.set_result(prediction)

    def _worker_done(self, worker: asyncio.Task[None]) -> None:
        """A worker that ends before ``stop`` died: fail every caller now, and every later one at once."""
        if self._closed:
            return
        error = worker.exception() if not worker.cancelled() else None
        self.failure = f"the batcher's worker died: {type(error).__name__ if error else 'cancelled'}"
        self._fail_all(BatcherClosedError(self.failure))

    def _fail_all(self, error: Exception) -> None:
        leftovers = list(self._batch)
        while not self._queue.empty():
            leftovers.append(self._queue.get_nowait())
        for waiting in leftovers:
            if not waiting.future.done():
                waiting.future.set_exception(error)
        self._batch = []

    async def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Take no new work; answer what waits within ``drain_timeout_s``; reject the rest.

        After this returns, no caller is left waiting.
        """
        self._closed = True
        worker = self._worker
        if worker is not None:
            if self._queue.empty() and not self._batch:
                worker.cancel()  # idle: it is blocked on an empty queue
            await asyncio.wait({worker}, timeout=drain_timeout_s)
            if not worker.done():
                worker.cancel()
                await asyncio.wait({worker})
        self._fail_all(BatcherClosedError("the server is shutting down"))
