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
    ceiling = min(cap_s, base_s * 2**attempt)
    return (rng or random).uniform(0.0, ceiling)


def retry_after_s(response: httpx.Response) -> float | None:
    """The server's ``Retry-After`` in seconds (delay-seconds form), or None when absent or unreadable."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


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
        budget = self.deadline_s if deadline_s is None else deadline_s
        give_up_at = time.monotonic() + budget
        last = "no attempt made"
        for attempt in range(self.max_attempts):
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(budget, attempt, last)
            wait: float | None = None
            try:
                response = await self._http.post(ENDPOINT, json={"text": text}, timeout=min(self.timeout_s, remaining))
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc or 'no detail'}"
            else:
                if (wrong := misdirected(response, self.base_url)) is not None:
                    raise wrong
                if response.status_code == 200:
                    return response.json()
                last = f"HTTP {response.status_code} {error_text(response)}"
                if response.status_code not in RETRY_STATUSES:
                    code, message = error_parts(response)
                    raise RequestRejected(response.status_code, code, message)
                wait = retry_after_s(response)
            if attempt + 1 == self.max_attempts:
                break
            if wait is None:
                wait = backoff_delay(attempt, base_s=self.backoff_base_s, cap_s=self.backoff_cap_s)
            if time.monotonic() + wait >= give_up_at:
                raise DeadlineExceeded(budget, attempt + 1, f"{last}; the next attempt would come after the deadline")
            await asyncio.sleep(wait)
        raise RetriesExhausted(self.max_attempts, last)


def misdirected(response: httpx.Response, base_url: str) -> ConfigurationError | None:
    """The ``ConfigurationError`` when ``response`` cannot come from the sentiment API at ``base_url``, else None:
    a 404 or 405 (no such route there), a 200 that is not a prediction, another 4xx without the error body."""
    status = response.status_code
    if status in MISDIRECTED:
        answer = f"HTTP {status}"
    elif status == 200 and json_with(response, "label", "score") is None:
        answer = f"HTTP 200 with {response.text[:80]!r}, not a prediction"
    elif 400 <= status < 500 and status not in RETRY_STATUSES and json_with(response, "error") is None:
        answer = f"HTTP {status} with {response.text[:80]!r}, not the contract's error body"
    else:
        return None
    return ConfigurationError(str(response.request.url), answer, base_url)


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
