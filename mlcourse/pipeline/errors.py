"""Typed errors of the resilient sentiment client: each says what happened, so a caller can decide.

Given to the learner (like ``mlcourse.port.errors``): the checks catch these classes, so the
starter and the solution must raise the same ones.
"""

from __future__ import annotations


class SentimentClientError(Exception):
    """Base class: the text got no prediction."""


class RequestRejected(SentimentClientError):
    """The API refused this request with a 4xx other than 429: sending it again would change nothing."""

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
