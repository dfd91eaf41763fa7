"""The sentiment API: ``create_app`` builds a FastAPI app around a batch-predict function.

Routes: ``POST /api/sentiment`` (one text in, ``{"label", "score"}`` out), ``GET /healthz``
(503 while the model loads, 200 when ready) and ``GET /metrics`` (queue depth, batch sizes,
response counts). The lifespan owns the resources: it starts the model load in the background,
so the server answers at once, and on shutdown it answers or rejects every waiting request.
Every answer that is not a prediction, including an unexpected failure, is the JSON error of
``mlcourse.api.contract`` and is counted in ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from mlcourse.api.contract import BODY_TIMEOUT_S, MAX_BATCH_SIZE, MAX_WAIT_MS, QUEUE_LIMIT, PredictBatch, Prediction

CLIENT_GONE = 499  # nginx's code for "client closed the request": logged and counted, never received


class SentimentService:
    """What the routes share: the model's state (loading, ready, failed, stopping) and the counts."""

    def __init__(
        self, load_model: Callable[[], PredictBatch], limits: dict[str, Any], body_timeout_s: float = BODY_TIMEOUT_S
    ) -> None:
        self.load_model = load_model
        self.limits = limits
        self.body_timeout_s = body_timeout_s

    async def load(self) -> None:
        """Load the model in a worker thread, then start the batcher: the server answers meanwhile."""
        raise NotImplementedError(
            "SentimentService.load: await asyncio.to_thread(self.load_model), then start a Batcher (and call "
            "gc.freeze(): the collector then skips the model's objects, whose full scans showed as p99 spikes)"
        )

    @property
    def state(self) -> str:
        """The status, or "failed" once the batcher's worker has died (then nothing can be answered)."""
        raise NotImplementedError("SentimentService.state: the status, but 'failed' once the batcher's worker died")

    async def stop(self, drain_timeout_s: float) -> None:
        raise NotImplementedError("SentimentService.stop: mark the service stopping and stop the batcher")

    async def read(self, request: Request) -> str:
        """The request's text, unless shutdown begins while its body is still arriving (503)."""
        raise NotImplementedError(
            "SentimentService.read: read_text(request, self.body_timeout_s) in the handler's own task, but give "
            "up with a 503 (header Connection: close) if shutdown begins first: keep the reading tasks in a set "
            "that stop() cancels (asyncio.current_task()), and turn that cancellation into the 503"
        )

    async def predict(self, text: str, request: Request) -> Prediction:
        """Wait for this text's prediction, unless the client goes away first."""
        raise NotImplementedError(
            "SentimentService.predict: 503 unless ready; submit to the batcher; map QueueFullError to 429 "
            "(Retry-After), BatcherClosedError to 503; give up if client_gone(request) finishes first; "
            "a model error reaching this caller is its own text's failure (the batcher isolated it): 500"
        )

    def count(self, status: int) -> None:
        raise NotImplementedError("SentimentService.count: count the response in 2xx, 429, 4xx, 5xx or client_gone")

    def metrics(self) -> dict[str, object]:
        raise NotImplementedError("SentimentService.metrics: status, queue_depth, limits, batch_sizes, responses")


async def client_gone(request: Request) -> None:
    """Return when the client disconnects (once the body is read, the server's next message is that)."""
    raise NotImplementedError("client_gone: await request.receive() until it gives {'type': 'http.disconnect'}")


def create_app(
    predict_batch: PredictBatch | None = None,
    *,
    load_model: Callable[[], PredictBatch] | None = None,
    max_batch_size: int = MAX_BATCH_SIZE,
    max_wait_ms: float = MAX_WAIT_MS,
    queue_limit: int = QUEUE_LIMIT,
    batching: str = "window",
    drain_timeout_s: float = 5.0,
    body_timeout_s: float = BODY_TIMEOUT_S,
) -> FastAPI:
    """Build the sentiment API around ``predict_batch`` (texts in, one ``{"label", "score"}`` each out).

    Give either ``predict_batch`` itself or ``load_model``, a blocking function that loads the
    model and returns its ``predict_batch``; the lifespan runs it in the background and
    ``/healthz`` answers 503 until it returns. A model call carries at most ``max_batch_size``
    texts, and waits at most ``max_wait_ms`` after the first text queued; beyond ``queue_limit``
    waiting texts the API answers 429. ``batching="adaptive"`` runs a batch as soon as the model is
    free, with what waited meanwhile (``max_wait_ms`` is never waited out on an idle model). On
    shutdown, waiting requests get their answer within ``drain_timeout_s``, or a 503; so does a body
    still arriving. A body not fully arrived within ``body_timeout_s`` gets 408.
    """
    raise NotImplementedError(
        "create_app: build the app as SentimentAPI(lifespan=...) (mlcourse.api.openapi: it publishes the contract "
        "at /docs), whose lifespan loads the model in the background "
        "(asyncio.to_thread) and starts a Batcher; routes POST /api/sentiment, GET /healthz, GET /metrics "
        "(see README.md); any unexpected exception in a route is still the JSON error (500), counted"
    )
