"""Checks of the resilient client, one behaviour at a time, against a scripted misbehaving server."""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

from mlcourse.api.fake_model import fake_prediction
from mlcourse.pipeline.errors import ConfigurationError, DeadlineExceeded, RequestRejected, RetriesExhausted
from mlcourse.pipeline.misbehaving import REFUSED_TEXT

TEXT = "I love this course"


@pytest.fixture
def client_module(drill):
    return drill.module("client")


def classify(client_module, run, url, text=TEXT, limit_s=30.0, **options):
    async def call():
        async with client_module.SentimentClient(url, **options) as client:
            return await client.classify(text)

    return run(call(), limit_s)


E = TypeVar("E", bound=Exception)


def raised(error_type: type[E], call: Callable[[], object], rule: str) -> E:
    """The ``error_type`` that ``call()`` raised; else a failure naming what came instead and the README's rule."""
    try:
        got = call()
    except error_type as error:
        return error
    except Exception as error:  # noqa: BLE001 - the message names it
        pytest.fail(f"classify raised {error!r}, not {error_type.__name__}: {rule}")
    pytest.fail(f"classify returned {got!r}, expected {error_type.__name__}: {rule}")


@pytest.mark.points(2)
def test_answers_and_reuses_one_connection(client_module, run, misbehaving):
    """classify returns the API's {label, score}; ten calls reuse one connection"""
    with misbehaving() as server:

        async def ten_calls():
            async with client_module.SentimentClient(server.url) as client:
                return [await client.classify(f"{TEXT} {i}") for i in range(10)]

        answers = run(ten_calls())
    assert answers == [fake_prediction(f"{TEXT} {i}") for i in range(10)], "return the API's JSON answer as is"
    assert server.connections == 1, (
        f"10 calls one after another opened {server.connections} connections: keep one httpx client open and reuse it"
    )


@pytest.mark.points(2)
def test_retries_429_503_and_transport_errors(client_module, run, misbehaving):
    """429, 503 and a dropped connection are retried until the answer comes"""
    with misbehaving(retry_after_s=0) as server:
        server.script(["429", "503", "drop", "503-bare", "ok"])
        answer = classify(client_module, run, server.url, backoff_base_s=0.01)
    seen = [arrival.behaviour for arrival in server.attempts_of(TEXT)]
    assert answer == fake_prediction(TEXT), (
        f"classify returned {answer!r}: return the API's answer once a retry gets it"
    )
    assert seen == ["429", "503", "drop", "503-bare", "ok"], (
        f"the server saw {seen}: retry 429, 503 and transport errors"
    )


@pytest.mark.points(2)
def test_no_retry_before_retry_after(client_module, run, misbehaving):
    """after a 429 or 503 with Retry-After: 1, the next attempt comes no earlier than 1 s later"""
    with misbehaving(retry_after_s=1) as server:
        server.script(["429", "503", "ok"])
        classify(client_module, run, server.url, backoff_base_s=0.001)
    attempts = server.attempts_of(TEXT)
    assert len(attempts) == 3, (
        f"expected 3 attempts (429, 503, ok), the server saw {len(attempts)}: retry a 429 or 503 once its "
        "Retry-After has passed"
    )
    early = server.early_retries()
    assert not early, "retried before Retry-After said: " + "; ".join(
        f"{b.arrived - a.answered:.3f} s after a {a.behaviour}" for a, b in early
    )


@pytest.mark.points(2)
def test_backoff_is_exponential_with_jitter(client_module, run, misbehaving):
    """without Retry-After, waits grow exponentially and are jittered (never a fixed interval)"""
    rng = random.Random(7)
    draws = {n: [client_module.backoff_delay(n, base_s=0.1, cap_s=5.0, rng=rng) for _ in range(400)] for n in range(7)}
    for n, values in draws.items():
        ceiling = min(5.0, 0.1 * 2**n)
        assert all(0.0 <= v <= ceiling + 1e-9 for v in values), f"retry {n}: delays must lie in [0, {ceiling}] s"
        assert len(set(values)) > 300, f"retry {n}: delays must be random (jitter), not one fixed value"
    means = [statistics.mean(draws[n]) for n in range(6)]
    assert all(1.6 < later / earlier < 2.4 for earlier, later in itertools.pairwise(means)), (
        f"mean delays {[round(m, 3) for m in means]} s: the ceiling must double with each retry"
    )
    with misbehaving() as server:
        server.script(["503-bare"] * 4 + ["ok"])
        classify(client_module, run, server.url, backoff_base_s=0.05, backoff_cap_s=1.0)
    arrivals = server.attempts_of(TEXT)
    gaps = [later.arrived - earlier.answered for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 5 and sum(gaps) > 0.02, (
        f"gaps between attempts {[round(g, 3) for g in gaps]} s: wait (backoff) between retries, do not hammer"
    )


@pytest.mark.points(2)
def test_a_4xx_is_never_retried(client_module, run, misbehaving):
    """a 422 raises RequestRejected with the server's status and message after exactly one attempt"""
    rule = "any status but 200, 429 and 503 raises RequestRejected(status, code, message) at once, never retried"
    with misbehaving() as server:
        rejected = raised(RequestRejected, lambda: classify(client_module, run, server.url, text=REFUSED_TEXT), rule)
    assert rejected.status == 422 and "refused" in rejected.message, (
        f"RequestRejected must carry the status (422) and the API's message, got {rejected!r}"
    )
    assert len(server.attempts_of(REFUSED_TEXT)) == 1, "a 4xx other than 429 must not be retried"


@pytest.mark.points(1)
def test_a_500_502_or_504_is_rejected_at_once(client_module, run, misbehaving):
    """a 500, 502 or 504 raises RequestRejected with its status after one attempt: only 429 and 503 are retried"""
    with misbehaving() as server:
        for status in (500, 502, 504):
            server.reset()
            server.script([str(status), "ok"])
            text = f"{TEXT} ({status})"
            try:
                got: object = classify(client_module, run, server.url, text=text, backoff_base_s=0.01)
            except RequestRejected as rejected:
                got = rejected
            attempts = len(server.attempts_of(text))
            assert isinstance(got, RequestRejected) and got.status == status and attempts == 1, (
                f"HTTP {status}: {attempts} attempt(s), then {got!r}. Any status but 200, 429 and 503 (a 500, 502 or "
                "504 included) raises RequestRejected(status, code, message) at once, never retried"
            )


@pytest.mark.points(2)
def test_a_slow_answer_times_out_and_is_retried(client_module, run, misbehaving):
    """every call has a timeout: a 2 s answer is abandoned after timeout_s and retried"""
    with misbehaving(slow_s=2.0) as server:
        server.script(["slow", "ok"])
        start = time.monotonic()
        answer = classify(client_module, run, server.url, timeout_s=0.3, backoff_base_s=0.01)
        took = time.monotonic() - start
    assert answer == fake_prediction(TEXT), f"classify returned {answer!r}: retry a timed-out call until the answer"
    assert took < 1.5, f"took {took:.2f} s: a call must give up after timeout_s (0.3 s) and retry, not wait 2 s"


@pytest.mark.points(2)
def test_the_total_deadline_is_kept(client_module, run, misbehaving):
    """a server that always answers 503 (Retry-After: 1) raises DeadlineExceeded within the 1.5 s deadline"""
    with misbehaving(retry_after_s=1) as server:
        server.script(["503"] * 50)
        start = time.monotonic()
        late = raised(
            DeadlineExceeded,
            lambda: classify(client_module, run, server.url, deadline_s=1.5, max_attempts=50),
            "DeadlineExceeded as soon as the next wait would pass the total deadline",
        )
        took = time.monotonic() - start
    assert took < 1.8, (
        f"DeadlineExceeded came after {took:.2f} s: raise it as soon as the next wait would pass the deadline (1.5 s), "
        "not after the wait"
    )
    assert "503" in str(late), f"DeadlineExceeded must say what the last attempt got (HTTP 503): {late}"


@pytest.mark.points(1)
def test_retries_are_limited(client_module, run, misbehaving):
    """after max_attempts refusals, RetriesExhausted says how many attempts and what the last one got"""
    with misbehaving(retry_after_s=0) as server:
        server.script(["429"] * 20)
        exhausted = raised(
            RetriesExhausted,
            lambda: classify(client_module, run, server.url, max_attempts=3, backoff_base_s=0.01),
            "after max_attempts attempts, RetriesExhausted says how many and what the last one got",
        )
    assert len(server.attempts_of(TEXT)) == 3, (
        f"the server saw {len(server.attempts_of(TEXT))} attempts with max_attempts=3: make exactly max_attempts"
    )
    assert exhausted.attempts == 3 and "429" in exhausted.last, (
        f"RetriesExhausted must say how many attempts (3) and what the last one got (HTTP 429), got {exhausted!r}"
    )


@pytest.mark.points(1)
def test_a_wrong_base_url_is_a_configuration_error(client_module, run, misbehaving):
    """given the endpoint (.../api/sentiment) as the base URL, the 404 raises ConfigurationError naming both URLs"""
    with misbehaving() as server:
        wrong = f"{server.url}/api/sentiment"
        error = raised(
            ConfigurationError,
            lambda: classify(client_module, run, wrong, backoff_base_s=0.01),
            "a 404 or 405 means the base URL is wrong: classify raises the ConfigurationError of misdirected() at once",
        )
    assert error.tried == f"{wrong}/api/sentiment" and error.base_url.rstrip("/") == wrong, (
        f"ConfigurationError(tried, answer, base_url) must carry the URL that answered 404 and the client's base URL, "
        f"got tried={error.tried!r}, base_url={error.base_url!r}"
    )
    assert "404" in error.answer, f"the answer must say what came back (HTTP 404), got {error.answer!r}"
