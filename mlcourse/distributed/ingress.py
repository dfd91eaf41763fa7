"""Drill d1's HTTP contract as a Ray Serve ingress: the same routes, inputs, errors and overload answer.

Requests reach this deployment through Ray's HTTP proxy. It reads the text with the chosen d1
implementation's ``read_text`` (the same 4xx for every bad input as ``make serve``), then asks
the model deployment through a handle. The handle's router holds at most ``max_queued_requests``
requests waiting for a replica slot; beyond that it raises ``BackPressureError`` at once, and
this ingress answers the course's 429, JSON body and ``Retry-After`` included. (Ray can send 429
itself, ``BackpressureConfig(status_code=429)``, but with a plain-text body, not the contract's.)
"""

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from ray import serve
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
from ray.serve.handle import DeploymentHandle
from starlette.exceptions import HTTPException

from mlcourse.api.contract import DRILL, ApiError, Prediction
from mlcourse.api.openapi import SentimentAPI, error_response
from mlcourse.distributed.model import MODEL_ERROR
from mlcourse.impl import load_drill

PREDICT_TIMEOUT_S = 10.0  # a request the model has not answered by then gets 504: nothing waits forever
HEALTH_TIMEOUT_S = 2.0
RETRY_AFTER_S = "1"

app = SentimentAPI(title="d1 sentiment API on Ray Serve")  # /docs shows d1's contract, with the changes below


@app.exception_handler(ApiError)
async def api_error(_: Request, error: ApiError) -> JSONResponse:
    return error.response()


@app.exception_handler(HTTPException)
async def http_error(_: Request, error: HTTPException) -> JSONResponse:
    """404 and 405 in the contract's shape too."""
    return ApiError(error.status_code, "http_error", str(error.detail)).response()


def overloaded(error: BackPressureError) -> ApiError:
    """Ray's "queue full" (a 503 by default, from the handle) as the course's 429 with Retry-After."""
    return ApiError(
        429, "queue_full", f"too many requests waiting ({error.message}); retry later", {"Retry-After": RETRY_AFTER_S}
    )


def answer(prediction: Prediction) -> Prediction:
    if MODEL_ERROR in prediction:
        raise ApiError(
            500,
            "model_error",
            f"the model failed on this text ({prediction[MODEL_ERROR]}); the other texts of its batch were answered",
        )
    return prediction


@serve.deployment(ray_actor_options={"num_cpus": 0})
@serve.ingress(app)
class SentimentIngress:
    """Validates, forwards to the model deployment, and maps the model side's failures to the contract."""

    def __init__(self, model: DeploymentHandle, impl: str) -> None:
        self.model = model
        self.read_text = load_drill(impl, DRILL).module("inputs").read_text

    @app.post("/api/sentiment", responses={504: error_response(f"no answer within {PREDICT_TIMEOUT_S:g} s")})
    async def sentiment(self, request: Request) -> Prediction:
        text = await self.read_text(request)
        response = self.model.predict.remote(text)
        try:
            async with asyncio.timeout(PREDICT_TIMEOUT_S):
                return answer(await response)
        except BackPressureError as error:
            raise overloaded(error) from None
        except DeploymentUnavailableError as error:
            raise ApiError(503, "model_unavailable", error.message, {"Retry-After": RETRY_AFTER_S}) from None
        except TimeoutError:
            response.cancel()
            raise ApiError(504, "model_timeout", f"no answer within {PREDICT_TIMEOUT_S:g} s") from None

    @app.get("/healthz", responses={503: error_response("no model replica answered", retry_after=True)})
    async def healthz(self) -> dict[str, str]:
        """200 once a model replica answers; Serve routes nothing to a replica still loading its model."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                await self.model.stats.remote()
        except Exception as error:  # noqa: BLE001 (any failure to answer is "unavailable", named in the body)
            raise ApiError(
                503,
                "model_unavailable",
                f"no model replica answered: {type(error).__name__}",
                {"Retry-After": RETRY_AFTER_S},
            ) from None
        return {"status": "ready"}

    @app.get("/metrics", responses={200: {"description": "a replica's pid and batch-size histogram"}})
    async def metrics(self) -> dict[str, Any]:
        """The batch sizes of one model replica (all of them when there is one), as ``make serve``'s /metrics."""
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            return await self.model.stats.remote()
