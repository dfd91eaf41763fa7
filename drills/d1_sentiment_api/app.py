"""The sentiment API: ``create_app`` builds a FastAPI app around a batch-predict function.

Routes: ``POST /api/sentiment`` (one text in, ``{"label", "score"}`` out), ``GET /healthz``
(``{"status": ...}``: 503 while the model loads, 200 when ready) and ``GET /metrics`` (queue depth, batch sizes,
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
            "SentimentService.load: load the model without blocking start-up or the event loop, then start the "
            "batcher; /healthz answers 503 while it loads (or if the load failed), 200 once ready."
            " Taught in notebook 05, section 4; stuck: README.md, Hints."
        )

    @property
    def state(self) -> str:
        """The status, or "failed" once the batcher's worker has died (then nothing can be answered)."""
        raise NotImplementedError(
            "SentimentService.state: the service's status, and 'failed' once the batcher's worker task died, so that "
            "requests and /healthz get 503."
            " Taught in notebook 05, section 12; stuck: README.md, Hints."
        )

    async def stop(self, drain_timeout_s: float) -> None:
        raise NotImplementedError(
            "SentimentService.stop: on shutdown every waiting request gets its answer within drain_timeout_s, or a "
            "503; what arrives during shutdown, and a body still arriving, gets 503 at once."
            " Taught in notebook 05, section 11; stuck: README.md, Hints."
        )

    async def read(self, request: Request) -> str:
        """The request's text, unless shutdown begins while its body is still arriving (503)."""
        raise NotImplementedError(
            "SentimentService.read: the request's text (read_text), but a JSON 503 at once if shutdown begins while "
            "its body is still arriving (never a hang, never a late 408)."
            " Taught in notebook 05, section 11; stuck: README.md, Hints."
        )

    async def predict(self, text: str, request: Request) -> Prediction:
        """Wait for this text's prediction, unless the client goes away first."""
        raise NotImplementedError(
            "SentimentService.predict: this text's prediction, or the documented error: 503 while the model loads, "
            "during shutdown or after the worker died; 429 with Retry-After when queue_limit requests wait; 500 for "
            "a text that still makes the model fail; a client that went away never reaches the model (section 10)."
            " Taught in notebook 05, section 8; stuck: README.md, Hints."
        )

    def count(self, status: int) -> None:
        raise NotImplementedError(
            "SentimentService.count: count every answer of POST /api/sentiment and every 404 and 405, whatever the "
            "path, in responses: 2xx, 429, 4xx (other than 429), 5xx, client_gone; never the answers of GET /healthz "
            "and GET /metrics."
            " Taught in notebook 05, section 8; stuck: README.md, Hints."
        )

    def metrics(self) -> dict[str, object]:
        raise NotImplementedError(
            "SentimentService.metrics: the /metrics body: queue_depth (requests waiting for a batch), batch_sizes "
            "(every model call by its size, the halving retries included) and responses, every key there from the "
            "start, at 0."
            " Taught in notebook 05, section 6; stuck: README.md, Hints."
        )


async def client_gone(request: Request) -> None:
    """Return when the client disconnects (once the body is read, the server's next message is that)."""
    raise NotImplementedError(
        "client_gone: return when the client goes away, so that a request whose client hung up under uvicorn "
        "never reaches the model and is counted in responses['client_gone']."
        " Taught in notebook 05, section 10; stuck: README.md, Hints."
    )


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
    waiting texts the API answers 429. ``batching="adaptive"``: a batch runs as soon as the model is
    free, with what waited meanwhile, up to ``max_batch_size``; ``max_wait_ms`` is never waited out on
    an idle model. On
    shutdown, waiting requests get their answer within ``drain_timeout_s``, or a 503; so does a body
    still arriving. A body not fully arrived within ``body_timeout_s`` gets 408.
    """
    raise NotImplementedError(
        "create_app: the SentimentAPI app of README.md's HTTP contract (POST /api/sentiment, GET /healthz, "
        "GET /metrics), whose lifespan starts the model load in the background and stops the batcher on shutdown; "
        "every error, even an unexpected exception, is the JSON error, counted."
        " Taught in notebook 05, section 8; stuck: README.md, Hints."
    )
