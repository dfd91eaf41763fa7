"""The sentiment API: ``create_app`` builds a FastAPI app around a batch-predict function.

Routes: ``POST /api/sentiment`` (one text in, ``{"label", "score"}`` out), ``GET /healthz``
(503 while the model loads, 200 when ready) and ``GET /metrics`` (queue depth, batch sizes,
response counts). The lifespan owns the resources: it starts the model load in the background,
so the server answers at once, and on shutdown it answers or rejects every waiting request.
Every answer that is not a prediction, including an unexpected failure, is the JSON error of
``mlcourse.api.contract`` and is counted in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mlcourse.api.contract import (
    BODY_TIMEOUT_S,
    MAX_BATCH_SIZE,
    MAX_WAIT_MS,
    QUEUE_LIMIT,
    ApiError,
    PredictBatch,
    Prediction,
)
from mlcourse.api.openapi import SentimentAPI

from .batcher import Batcher, BatcherClosedError, QueueFullError
from .inputs import read_text

log = logging.getLogger("uvicorn.error")  # uvicorn's general logger: messages show in its console output
CLIENT_GONE = 499  # nginx's code for "client closed the request": logged and counted, never received


class SentimentService:
    """What the routes share: the model's state (loading, ready, failed, stopping) and the counts."""

    def __init__(
        self, load_model: Callable[[], PredictBatch], limits: dict[str, Any], body_timeout_s: float = BODY_TIMEOUT_S
    ) -> None:
        self.load_model = load_model
        self.limits = limits
        self.body_timeout_s = body_timeout_s
        self.batcher: Batcher | None = None
        self.status = "loading"
        self.readers: set[asyncio.Task] = set()  # handlers whose body is still arriving: shutdown cancels them
        self.load_error = ""
        self.responses: Counter[str] = Counter({"2xx": 0, "429": 0, "4xx": 0, "5xx": 0, "client_gone": 0})

    async def load(self) -> None:
        """Load the model in a worker thread, then start the batcher: the server answers meanwhile."""
        started = time.perf_counter()
        try:
            predict_batch = await asyncio.to_thread(self.load_model)
        except Exception as error:  # noqa: BLE001  (whatever the loader raises, /healthz reports it)
            self.status, self.load_error = "failed", f"{type(error).__name__}: {error}"
            log.error("model load failed: %s", self.load_error)
            return
        if self.status != "loading":  # shutdown began while the weights were loading
            return
        gc.freeze()  # the model's many objects move out of the collector's sight: no long pauses under load
        self.batcher = Batcher(predict_batch, **self.limits)
        self.batcher.start()
        self.status = "ready"
        log.info("model ready after %.1f s", time.perf_counter() - started)

    @property
    def state(self) -> str:
        """The status, or "failed" once the batcher's worker has died (then nothing can be answered)."""
        if self.status == "ready" and self.batcher is not None and self.batcher.failure:
            return "failed"
        return self.status

    async def stop(self, drain_timeout_s: float) -> None:
        self.status = "stopping"
        for reader in list(self.readers):
            reader.cancel()
        if self.batcher is not None:
            await self.batcher.stop(drain_timeout_s)

    async def read(self, request: Request) -> str:
        """The request's text, unless shutdown begins while its body is still arriving (503).

        The body is read in the handler's own task (no extra task per request: that cost p99 at load);
        ``stop`` cancels the handlers still reading, and the cancellation becomes the 503.
        """
        reader = asyncio.current_task()
        assert reader is not None  # a handler always runs in a task
        self.readers.add(reader)
        try:
            return await read_text(request, self.body_timeout_s)
        except asyncio.CancelledError:
            if self.status != "stopping":
                raise
            reader.uncancel()
            raise ApiError(
                503, "shutting_down", "the server is shutting down", {"Connection": "close", "Retry-After": "1"}
            ) from None
        finally:
            self.readers.discard(reader)

    async def predict(self, text: str, request: Request) -> Prediction:
        """Wait for this text's prediction, unless the client goes away first."""
        if self.batcher is None or self.state != "ready":
            message = {
                "loading": "the model is still loading",
                "failed": f"the model failed: {self.load_error or (self.batcher and self.batcher.failure)}",
                "stopping": "the server is shutting down",
            }[self.state]
            raise ApiError(503, f"model_{self.state}", message, {"Retry-After": "1"})
        answer = asyncio.ensure_future(self.batcher.submit(text))
        gone = asyncio.ensure_future(client_gone(request))
        try:
            await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not answer.done():
                answer.cancel()  # its future is cancelled: the batcher drops the text unread
        if not answer.done():
            raise ApiError(CLIENT_GONE, "client_gone", "the client closed the connection before the answer")
        try:
            return answer.result()
        except QueueFullError as error:
            raise ApiError(
                429, "queue_full", f"too many requests waiting ({error}); retry later", {"Retry-After": "1"}
            ) from None
        except BatcherClosedError as error:
            code = "model_failed" if self.batcher.failure else "shutting_down"
            raise ApiError(503, code, str(error), {"Retry-After": "1"}) from None
        except Exception as error:  # noqa: BLE001  (the batcher isolated this text: it alone fails)
            log.warning("the model failed on one text: %s: %.200s", type(error).__name__, error)
            raise ApiError(
                500,
                "model_error",
                f"the model failed on this text ({type(error).__name__}); the other texts of its batch were answered",
            ) from None

    def count(self, status: int) -> None:
        if status == CLIENT_GONE:
            self.responses["client_gone"] += 1
        elif status == 429:
            self.responses["429"] += 1
        else:
            self.responses[f"{status // 100}xx"] += 1

    def metrics(self) -> dict[str, object]:
        batcher = self.batcher
        return {
            "status": self.state,
            "queue_depth": batcher.depth if batcher else 0,
            "limits": self.limits,
            "batch_sizes": {str(size): n for size, n in sorted(batcher.batch_sizes.items())} if batcher else {},
            "responses": dict(self.responses),
        }


async def client_gone(request: Request) -> None:
    """Return when the client disconnects (once the body is read, the server's next message is that)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


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
    if (predict_batch is None) == (load_model is None):
        raise ValueError("give exactly one of predict_batch or load_model")
    loader: Callable[[], PredictBatch] = load_model or (lambda: cast(PredictBatch, predict_batch))
    limits: dict[str, Any] = {
        "max_batch_size": max_batch_size,
        "max_wait_ms": max_wait_ms,
        "queue_limit": queue_limit,
        "batching": batching,
    }
    if max_batch_size < 1 or queue_limit < 1 or max_wait_ms < 0:
        raise ValueError("max_batch_size and queue_limit must be >= 1, max_wait_ms >= 0")
    service = SentimentService(loader, limits, body_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(service.load(), name="model-load")
        if predict_batch is not None:
            await loading  # nothing to load: ready when the start-up completes
        try:
            yield
        finally:
            await service.stop(drain_timeout_s)
            loading.cancel()
            with suppress(asyncio.CancelledError):
                await loading

    app = SentimentAPI(lifespan=lifespan)  # its /openapi.json and /docs publish the contract
    app.state.service = service

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error.response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = f"http_{error.status_code}"
        service.count(error.status_code)
        return ApiError(error.status_code, code, str(error.detail), dict(error.headers or {})).response()

    @app.post("/api/sentiment")
    async def sentiment(request: Request) -> JSONResponse:
        """Body ``{"text": "..."}`` -> ``{"label": "positive"|"negative", "score": float}``."""
        try:
            text = await service.read(request)
            response = JSONResponse(await service.predict(text, request))
        except ApiError as error:
            response = error.response()
        except Exception:  # a bug, not the client's fault: still the documented JSON error, and counted
            log.exception("unexpected error in POST /api/sentiment")
            response = ApiError(500, "internal_error", "the server failed on this request").response()
        service.count(response.status_code)
        return response

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        error = service.load_error or (service.batcher.failure if service.batcher else None)
        body = {"status": service.state, **({"error": error} if error else {})}
        return JSONResponse(body, status_code=200 if service.state == "ready" else 503)

    @app.get("/metrics")
    async def metrics() -> dict[str, object]:
        return service.metrics()

    return app
