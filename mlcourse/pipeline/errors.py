"""Typed errors of the resilient sentiment client: each says what happened, so a caller can decide.

Given to the learner (like ``mlcourse.port.errors``): the checks catch these classes, so the
starter and the solution must raise the same ones. A ``SentimentClientError`` is one text's failure
(its row records it); a ``ConfigurationError`` says no text can succeed at that URL (the run stops).
"""

from __future__ import annotations

from urllib.parse import urlsplit


class SentimentClientError(Exception):
    """Base class: the text got no prediction."""


class RequestRejected(SentimentClientError):
    """The API refused this request (any status but 200, 429 and 503): sending it again would change nothing."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class RetriesExhausted(SentimentClientError):
    """Every attempt got a 429, a 503 or a transport error; ``last`` says what the last one was."""

    def __init__(self, attempts: int, last: str) -> None:
        super().__init__(f"gave up after {attempts} attempt(s); last: {last}")
        self.attempts, self.last = attempts, last


class DeadlineExceeded(SentimentClientError):
    """The total deadline for this text passed (or the next wait would pass it) before an answer."""

    def __init__(self, deadline_s: float, attempts: int, last: str) -> None:
        super().__init__(f"deadline of {deadline_s:g} s exceeded after {attempts} attempt(s); last: {last}")
        self.deadline_s, self.attempts, self.last = deadline_s, attempts, last


MISDIRECTED = frozenset({404, 405})  # the API has no such route or method here: --url is not its base URL
API_ROUTES = ("/api/sentiment", "/healthz", "/metrics")  # d1's routes, which a base URL must not end with


def expected_base_url(url: str) -> str:
    """Where the API probably is: ``url`` without one of its routes pasted on the end, else its origin."""
    trimmed = url.rstrip("/")
    for route in API_ROUTES:
        if trimmed.endswith(route) and len(trimmed) > len(route):
            return trimmed[: -len(route)]
    parts = urlsplit(trimmed)
    return f"{parts.scheme}://{parts.netloc}"


class ConfigurationError(Exception):
    """What answers at the URL is not the sentiment API: a 404 or 405, or a body not in the contract's JSON.

    No row can succeed, so it is no row's failure (not a ``SentimentClientError``): it stops the run.
    ``tried`` is the URL that answered, ``base_url`` the one the client was given.
    """

    def __init__(self, tried: str, answer: str, base_url: str) -> None:
        expected = expected_base_url(base_url)
        if expected == base_url.rstrip("/"):
            expected = "http://127.0.0.1:8000 for make serve"
        super().__init__(
            f"{tried} answered {answer}: that is not the sentiment API. --url takes the API's base URL, "
            f"the one /api/sentiment and /healthz are appended to: {expected}"
        )
        self.tried, self.answer, self.base_url = tried, answer, base_url


def first_leaf(error: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups, as task groups raise them: the one to report."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
