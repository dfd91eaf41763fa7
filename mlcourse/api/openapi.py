"""d1's contract as its OpenAPI document declares it: what ``/openapi.json`` and ``/docs`` publish.

The app reads its body itself (streamed under a deadline, ``inputs.read_text``), so FastAPI must
not parse it: the request schema is declared with ``openapi_extra``, and every answer of the
README's contract table with ``responses=``, errors in the one error schema, ``Retry-After`` on
429 and 503. :class:`SentimentAPI` is a FastAPI app whose routes get these declarations by their
path (``route_class``), so whoever builds the app with it, the starter included, publishes the
contract without writing it; a route's own ``responses=`` still win (Ray Serve's ingress adds 504).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from mlcourse.api.contract import MAX_BODY_BYTES, MAX_TEXT_CHARS

# What read_text accepts, for a generator of valid requests: no control character but tab, newline
# and carriage return, and at least one character that str.strip() keeps (whitespace listed, not \s:
# Python's and ECMAScript's \s differ).
ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
VISIBLE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
TEXT_PATTERN = f"^{ALLOWED}*{VISIBLE}{ALLOWED}*$"


class SentimentRequest(BaseModel):
    """The body of ``POST /api/sentiment``."""

    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        pattern=TEXT_PATTERN,
        examples=["I love Elixir!"],
        description="plain text: not blank, no control character but tab, newline, carriage return",
    )


class Sentiment(BaseModel):
    """One prediction."""

    label: Literal["positive", "negative"]
    score: float = Field(ge=0.0, le=1.0, description="the model's probability for the label")


class ErrorDetail(BaseModel):
    code: str = Field(description="for programs, e.g. queue_full, text_too_long")
    message: str = Field(description="for a person: what is wrong and what to send instead")


class ErrorResponse(BaseModel):
    """The body of every answer that is not a prediction."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["loading", "ready", "failed", "stopping"]
    error: str | None = Field(default=None, description="why the model or the batcher failed, once it has")


class Metrics(BaseModel):
    queue_depth: int = Field(ge=0, description="requests waiting for a batch")
    batch_sizes: dict[str, int] = Field(description="model calls per batch size")
    responses: dict[str, int] = Field(description="answers counted by 2xx, 429, 4xx, 5xx, client_gone")
    status: str | None = None
    limits: dict[str, Any] | None = Field(default=None, description="the batching limits the server runs with")


RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before sending again",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def error_response(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    """A ``responses=`` entry whose body is the contract's error (and which carries ``Retry-After``)."""
    return {"description": description, "model": ErrorResponse, **({"headers": RETRY_AFTER} if retry_after else {})}


SENTIMENT_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": SentimentRequest.model_json_schema()}}}
}

ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/sentiment"): {
        "summary": "Classify one text",
        "openapi_extra": SENTIMENT_BODY,
        "responses": {
            200: {"description": "the text's sentiment", "model": Sentiment},
            400: error_response("the body is not valid JSON (nesting too deep included)"),
            408: error_response("the body did not fully arrive in time; the connection closes"),
            413: error_response(f"the body is over {MAX_BODY_BYTES} bytes"),
            415: error_response("the content-type is not application/json"),
            422: error_response(
                'not an object, or "text" missing, not a string, blank, too long, not encodable '
                "UTF-8 or holding a control character"
            ),
            429: error_response("the queue is full: retry later", retry_after=True),
            500: error_response("the model failed on this text alone, or the server failed on this request"),
            503: error_response("the model is loading or failed, or the server is shutting down", retry_after=True),
        },
    },
    ("GET", "/healthz"): {
        "summary": "Readiness",
        "responses": {
            200: {"description": "the model is ready", "model": Health},
            503: {"description": "the model is loading or failed, or the server is stopping", "model": Health},
        },
    },
    ("GET", "/metrics"): {
        "summary": "Queue depth, batch sizes and response counts",
        "responses": {200: {"description": "the server's counts", "model": Metrics}},
    },
}


class ContractRoute(APIRoute):
    """An ``APIRoute`` that documents the contract of its method and path (:data:`ROUTES`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        for method in options.get("methods") or ():
            declared = ROUTES.get((method.upper(), path), {})
            if declared:
                options["responses"] = {**declared["responses"], **(options.get("responses") or {})}
                options["openapi_extra"] = {**declared.get("openapi_extra", {}), **(options.get("openapi_extra") or {})}
                options["summary"] = options.get("summary") or declared["summary"]
                if isinstance(options.get("response_model"), DefaultPlaceholder):
                    options["response_model"] = None  # the contract declares the answer: none inferred from the code
        super().__init__(path, endpoint, **options)


class SentimentAPI(FastAPI):
    """A FastAPI app for d1's routes: its ``/openapi.json`` and ``/docs`` show the contract."""

    def __init__(self, *, title: str = "Sentiment API", **options: Any) -> None:
        super().__init__(title=title, **options)
        self.router.route_class = ContractRoute
