"""Checks on the HTTP contract: bad input, readiness, a free event loop, and a clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mlcourse.api.contract import MAX_BODY_BYTES, MAX_TEXT_CHARS
from mlcourse.api.fake_model import FakeSentimentModel, fake_prediction, slow_loader
from mlcourse.api.inprocess import InProcessApp, wait_until_ready

API = "/api/sentiment"
JSON = {"content-type": "application/json"}

# (what is wrong, request keyword arguments, expected status, a word the message must contain)
BAD_INPUTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("invalid JSON", {"content": b'{"text": "unterminated', "headers": JSON}, 400, "json"),
    ("not JSON content-type", {"content": b'{"text": "hi"}', "headers": {"content-type": "text/plain"}}, 415, "json"),
    ("a JSON array, not an object", {"json": ["I love Elixir!"]}, 422, "object"),
    ("text missing", {"json": {"message": "I love Elixir!"}}, 422, "text"),
    ("text empty", {"json": {"text": ""}}, 422, "text"),
    ("text blank", {"json": {"text": "   "}}, 422, "text"),
    ("text a number", {"json": {"text": 42}}, 422, "text"),
    ("text null", {"json": {"text": None}}, 422, "text"),
    (
        f"text over {MAX_TEXT_CHARS} characters",
        {"json": {"text": "a" * (MAX_TEXT_CHARS + 1)}},
        422,
        str(MAX_TEXT_CHARS),
    ),
    ("JSON nested 1,000 deep", {"content": b"[" * 1000 + b"]" * 1000, "headers": JSON}, 400, "json"),
    ("text with a lone surrogate", {"content": b'{"text": "bad \\ud800"}', "headers": JSON}, 422, "text"),
    ("text with a control character", {"json": {"text": "bell \u0007 ring"}}, 422, "text"),
    (
        f"body over {MAX_BODY_BYTES} bytes",
        {"content": json.dumps({"text": "a" * MAX_BODY_BYTES}).encode(), "headers": JSON},
        413,
        "",
    ),
]


@pytest.mark.points(2)
def test_each_bad_input_gets_the_right_4xx(create_app, run):
    """Bad input gets a 4xx with a JSON error saying what is wrong: 400, 413, 415 or 422 as documented.

    Text the model cannot take (a lone surrogate, control characters) is refused here, with a 422,
    so that it never fails a whole batch in the model.
    """
    model = FakeSentimentModel()

    async def send_all():
        async with InProcessApp(create_app(model.predict_batch, max_wait_ms=5), timeout_s=10) as client:
            await wait_until_ready(client)
            bad = [
                (name, await client.post(API, **request), status, word) for name, request, status, word in BAD_INPUTS
            ]
            longest = await client.post(API, json={"text": "b" * MAX_TEXT_CHARS})
            return bad, longest

    bad, longest = run(send_all())
    problems = []
    for name, response, status, word in bad:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            problems.append(f'{name}: the body must be {{"error": {{"code", "message"}}}}, got {response.text[:80]!r}')
            continue
        if response.status_code != status:
            problems.append(f"{name}: expected {status}, got {response.status_code} ({message})")
        elif word not in message.lower():
            problems.append(f"{name}: the message {message!r} should say what is wrong (mention {word!r})")
    assert not problems, "bad input must get the documented 4xx and a message:\n" + "\n".join(problems)
    assert longest.status_code == 200, (
        f"a text of exactly {MAX_TEXT_CHARS} characters is allowed, got {longest.status_code}"
    )
    assert model.texts_seen == ["b" * MAX_TEXT_CHARS], "bad input must never reach the model"


@pytest.mark.points(2)
def test_readiness_during_a_slow_model_load(create_app, run, error_message):
    """/healthz answers 503 while the model loads and 200 once ready; requests meanwhile get 503 at once, not a hang."""
    model = FakeSentimentModel()
    load_s = 1.5

    async def start_while_loading():
        session = InProcessApp(create_app(load_model=slow_loader(model, load_s)), timeout_s=10)
        async with session as client:
            startup_s = session.startup_s
            health = (await client.get("/healthz")).status_code
            started = time.perf_counter()
            early = await asyncio.wait_for(client.post(API, json={"text": "too early"}), 1.0)
            early_s = time.perf_counter() - started
            deadline = time.perf_counter() + load_s + 3
            while (ready := (await client.get("/healthz")).status_code) != 200 and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            late = await client.post(API, json={"text": "I love a ready model"})
            return startup_s, health, early, early_s, ready, late

    startup_s, health, early, early_s, ready, late = run(start_while_loading())
    assert startup_s < 0.5, (
        f"the app took {startup_s:.1f} s to start with a {load_s} s model load: start the load in the background "
        "(a task in the lifespan, the blocking load in a worker thread) so the server answers at once"
    )
    assert health == 503, f"/healthz must answer 503 while the model loads, got {health}"
    assert early.status_code == 503 and early_s < 0.5, (
        f"a request during loading got {early.status_code} after {early_s * 1000:.0f} ms: answer 503 at once"
    )
    assert error_message(early), 'the 503 carries the JSON error {"error": {"code", "message"}}'
    assert ready == 200, "/healthz must answer 200 once the model has loaded"
    assert late.status_code == 200 and late.json() == fake_prediction("I love a ready model"), (
        f"a request once /healthz says ready must get 200 and its own prediction, got {late.status_code}"
    )


@pytest.mark.points(2)
def test_healthz_answers_during_a_slow_batch(create_app, run):
    """The model runs in a worker thread: /healthz answers promptly while a 1 s batch computes."""
    model = FakeSentimentModel(call_s=1.0)

    async def probe():
        async with InProcessApp(create_app(model.predict_batch, max_wait_ms=10), timeout_s=10) as client:
            await wait_until_ready(client)
            started = time.perf_counter()
            busy = asyncio.create_task(client.post(API, json={"text": "a slow batch"}))
            await asyncio.sleep(0.2)  # the batch is computing by now (10 ms window); a blocked loop wakes us later
            health = await client.get("/healthz")
            health_s = time.perf_counter() - started
            return health, health_s, busy.done(), await busy

    health, health_s, busy_done, busy = run(probe())
    assert model.batch_sizes == [1], f"the slow request should be one model call, got {model.batch_sizes}"
    assert health.status_code == 200, f"/healthz must answer 200 while a batch computes, got {health.status_code}"
    assert health_s < 0.6 and not busy_done, (
        f"/healthz, asked 200 ms into a 1 s batch, answered {health_s * 1000:.0f} ms after the batch began: "
        "run the model in a worker thread (asyncio.to_thread or an executor) so the event loop keeps serving"
    )
    assert busy.status_code == 200, (
        f"the slow request itself must get 200 once its batch is done, got {busy.status_code}"
    )


@pytest.mark.points(2)
def test_shutdown_answers_every_waiting_request(create_app, run):
    """On shutdown every waiting request is answered (200) or rejected (503); none hangs."""
    model = FakeSentimentModel(call_s=0.1)

    async def stop_while_busy():
        session = InProcessApp(create_app(model.predict_batch, max_batch_size=4, max_wait_ms=10), timeout_s=10)
        async with session as client:
            await wait_until_ready(client)
            texts = [f"waiting at shutdown {i}" for i in range(12)]
            tasks = [asyncio.create_task(client.post(API, json={"text": text})) for text in texts]
            while not model.batches:
                await asyncio.sleep(0.01)
            await session.shutdown()
            _done, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            return texts, tasks, len(pending)

    texts, tasks, hanging = run(stop_while_busy())
    assert hanging == 0, (
        f"{hanging} of 12 waiting requests were still hanging 5 s after shutdown: on shutdown, answer what waits "
        "or reject it with 503, so no request hangs"
    )
    statuses = [task.result().status_code for task in tasks]
    assert set(statuses) <= {200, 503}, f"at shutdown a waiting request gets 200 or 503, got {sorted(set(statuses))}"
    answered = [(text, task.result()) for text, task in zip(texts, tasks) if task.result().status_code == 200]
    assert all(r.json() == fake_prediction(text) for text, r in answered), "each answer must be for its own text"


@pytest.mark.points(1)
def test_an_unknown_route_or_method_gets_the_json_error(create_app, run, error_message):
    """A path the API does not have gets 404, a method a route does not take 405: each the JSON error, counted."""
    model = FakeSentimentModel()

    async def stray():
        async with InProcessApp(create_app(model.predict_batch), timeout_s=10) as client:
            await wait_until_ready(client)
            missing = await client.post("/api/sentiments", json={"text": "a typo in the path"})
            wrong_method = await client.get(API)
            return missing, wrong_method, (await client.get("/metrics")).json()

    missing, wrong_method, metrics = run(stray())
    for name, response, status in (("POST /api/sentiments", missing, 404), (f"GET {API}", wrong_method, 405)):
        assert response.status_code == status, f"{name} must get {status}, got {response.status_code}"
        assert error_message(response), (
            f'{name} got {response.text[:80]!r}: every error has the body {{"error": {{"code", "message"}}}}, '
            "the answers of routes the app does not have included"
        )
    assert metrics["responses"].get("4xx") == 2, (
        f'/metrics responses {metrics["responses"]} after a 404 and a 405: count them in responses["4xx"]'
    )


@pytest.mark.points(1)
def test_a_body_still_arriving_at_shutdown_gets_503_at_once(create_app, run, error_message):
    """Shutdown while a request's body is still arriving: that request gets a JSON 503 at once, not a hang or a 408."""
    model = FakeSentimentModel()

    async def half_a_body(released: asyncio.Event) -> AsyncIterator[bytes]:
        yield b'{"text": "a body that is still arri'
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), 6)
        yield b'ving"}'

    async def stop_while_reading():
        session = InProcessApp(create_app(model.predict_batch, body_timeout_s=5.0), timeout_s=10)
        async with session as client:
            await wait_until_ready(client)
            released = asyncio.Event()
            slow = asyncio.create_task(client.post(API, content=half_a_body(released), headers=JSON))
            await asyncio.sleep(0.3)  # its body is being read
            started = time.perf_counter()
            await session.shutdown()
            done, _ = await asyncio.wait({slow}, timeout=1.5)
            waited = time.perf_counter() - started
            released.set()
            return (await slow if done else None), waited

    response, waited = run(stop_while_reading())
    assert response is not None, (
        f"a request whose body was still arriving got no answer {waited:.1f} s after shutdown began: "
        "on shutdown, a body still arriving gets 503 at once"
    )
    assert response.status_code == 503, (
        f"a body still arriving at shutdown got {response.status_code}: answer it 503 at once, "
        "do not wait for the body (408 comes only after body_timeout_s)"
    )
    assert error_message(response), 'the 503 carries the JSON error {"error": {"code", "message"}}'
    assert not model.texts_seen, "a request refused at shutdown must never reach the model"
