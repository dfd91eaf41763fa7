"""The sentiment model as a Ray Serve deployment: loaded once per replica, called a batch at a time.

The constructor loads the model, so the cost is paid when a replica starts, off the request
path: Serve routes nothing to a replica before its constructor returns. ``@serve.batch`` is
Ray's version of the course's batcher: one call per list of texts, run when 16 have arrived
or 50 ms after the first, whichever comes first. One batch runs at a time per replica
(``max_concurrent_batches=1``); the model call runs in a worker thread, so the next batch keeps
filling meanwhile.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass

from ray import serve

from mlcourse.api.contract import MAX_BATCH_SIZE, MAX_WAIT_MS, PredictBatch, Prediction
from mlcourse.api.models import FakeCost, model_loader

BATCH_WAIT_S = MAX_WAIT_MS / 1000  # d1's window, in the seconds @serve.batch takes
MODEL_ERROR = "model_error"  # the key of an answer that is a failure, not a prediction


@dataclass(frozen=True)
class ModelSpec:
    """Which model a replica or actor loads: the built default, a folder, or the fake at a chosen cost."""

    model: str | None = None  # None: the offline default (python -m mlcourse.sentiment.build)
    fake: FakeCost | None = None  # the fake model at this cost instead
    threads: int = 1  # torch threads per replica: replicas, not threads, use the other cores

    def load(self) -> PredictBatch:
        """Load it (blocking): the loader is ``make serve``'s, so both servers serve the same model."""
        return model_loader(self.model, fake=self.fake, num_threads=self.threads)()


def predict_each_alone(predict_batch: PredictBatch, texts: list[str]) -> list[Prediction]:
    """The batch's predictions; if the batch fails, each text again alone, so a poisoned text fails alone."""
    try:
        return predict_batch(texts)
    except Exception as error:  # noqa: BLE001 (the model's failure is retried text by text, then answered)
        if len(texts) == 1:
            return [failure(error)]
    answers = []
    for text in texts:
        try:
            answers.append(predict_batch([text])[0])
        except Exception as error:  # noqa: BLE001 (a poisoned text's failure is its answer)
            answers.append(failure(error))
    return answers


def failure(error: Exception) -> dict[str, str]:
    """The answer for a text the model failed on: the ingress turns it into that request's 500."""
    return {MODEL_ERROR: f"{type(error).__name__}: {error}"[:300]}


@serve.deployment(ray_actor_options={"num_cpus": 1})
class SentimentModel:
    """One replica: the model and its batch-size counts (``stats``)."""

    def __init__(self, spec: ModelSpec) -> None:
        self.predict_batch = spec.load()
        self.batch_sizes: Counter[int] = Counter()

    @serve.batch(max_batch_size=MAX_BATCH_SIZE, batch_wait_timeout_s=BATCH_WAIT_S)
    async def predict(self, texts: list[str]) -> list[Prediction]:
        self.batch_sizes[len(texts)] += 1
        return await asyncio.to_thread(predict_each_alone, self.predict_batch, texts)

    async def stats(self) -> dict[str, object]:
        """This replica's process id and batch-size histogram (what ``/metrics`` reports)."""
        return {"replica_pid": os.getpid(), "batch_sizes": {str(k): v for k, v in sorted(self.batch_sizes.items())}}
