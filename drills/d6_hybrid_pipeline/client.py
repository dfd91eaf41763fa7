"""The resilient sentiment client: the course's counterpart of the article's ``SentimentAnalyzer``.

One ``httpx.AsyncClient`` (its connections are reused), a timeout on every call, retries with
exponential backoff and full jitter on 429, 503 and transport errors, ``Retry-After`` honoured,
a total deadline per text, and typed errors. Any status but 200, 429 and 503 (a 4xx other than 429,
or a 500, 502 or 504) raises ``RequestRejected`` at once, never retried: the API names 429 and 503 as
its only "try again later" answers, and its 500 means the model failed on this text, which a retry
would repeat. An answer that cannot come from the sentiment API (a 404 or 405,
or a body not in the contract's JSON) means the base URL is wrong: ``ConfigurationError``, which
no retry and no other text can fix. Classifying a text has no side effect, so sending it again after
a dropped connection is safe.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Self

import httpx

from mlcourse.pipeline.errors import (
    MISDIRECTED,
    ConfigurationError,
    DeadlineExceeded,
    RequestRejected,
    RetriesExhausted,
)

RETRY_STATUSES = frozenset({429, 503})
ENDPOINT = "/api/sentiment"


def backoff_delay(attempt: int, *, base_s: float = 0.1, cap_s: float = 5.0, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry): full jitter.

    Uniform in [0, min(cap, base * 2**attempt)]: the ceiling doubles each time, and the draw
    spreads clients that failed together, so they do not all come back at the same instant.
    """
    raise NotImplementedError(
        "d6: backoff_delay must return a full-jitter wait, uniform in [0, min(cap, base * 2**attempt)] (README.md, "
        "The client). Taught in notebook 08, section 3; stuck: README.md, Hints."
    )


def retry_after_s(response: httpx.Response) -> float | None:
    """The server's ``Retry-After`` in seconds (delay-seconds form), or None when absent or unreadable."""
    raise NotImplementedError(
        "d6: retry_after_s must return the server's Retry-After in seconds, or None when there is none to read. "
        "Taught in notebook 08, section 3; stuck: README.md, Hints."
    )


class SentimentClient:
    """``async with SentimentClient(url) as client: await client.classify("I love it")``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        deadline_s: float = 30.0,
        max_attempts: int = 6,
        backoff_base_s: float = 0.1,
        backoff_cap_s: float = 5.0,
        max_connections: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s, limits=limits)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def classify(self, text: str, *, deadline_s: float | None = None) -> dict[str, Any]:
        """``{"label", "score"}`` for ``text``, or a typed error saying why not."""
        raise NotImplementedError(
            "d6: classify must return the API's {label, score} for the text, retrying 429, 503 and transport errors "
            "as README.md, The client says, or raise the typed error that says why not. Taught in notebook 08, "
            "section 3; stuck: README.md, Hints."
        )


def misdirected(response: httpx.Response, base_url: str) -> ConfigurationError | None:
    """The ``ConfigurationError`` when ``response`` cannot come from the sentiment API at ``base_url``, else None:
    a 404 or 405 (no such route there), a 200 that is not a prediction, another 4xx without the error body
    (a 429 or 503 never is, body or not). ``tried`` is the request's URL."""
    raise NotImplementedError(
        "d6: misdirected must return the ConfigurationError for an answer the sentiment API cannot have sent, "
        "else None (README.md, The client). Taught in notebook 08, section 3; stuck: README.md, Hints."
    )


def json_with(response: httpx.Response, *keys: str) -> dict[str, Any] | None:
    """The body as a JSON object if it has all of ``keys``, else None."""
    try:
        body = response.json()
    except ValueError:  # not JSON, or not UTF-8
        return None
    return body if isinstance(body, dict) and all(key in body for key in keys) else None


def error_parts(response: httpx.Response) -> tuple[str, str]:
    """The API's ``{"error": {"code", "message"}}``, or the status and body when it is not that shape."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.text[:200]


def error_text(response: httpx.Response) -> str:
    code, message = error_parts(response)
    return f"{code}: {message}"
