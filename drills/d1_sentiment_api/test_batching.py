"""Checks on batching and backpressure, with a deterministic fake model (the batcher is under test, not a model)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter

import httpx
import pytest

from mlcourse.api.fake_model import FakeSentimentModel, fake_prediction
from mlcourse.api.inprocess import InProcessApp, wait_until_ready

API = "/api/sentiment"


async def post(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post(API, json={"text": text})


async def until(condition, limit_s: float = 5.0, what: str = "") -> None:
    """Poll ``condition()`` until it is true; fail with ``what`` after ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(what or "timed out")
        await asyncio.sleep(0.01)


def wrong_answers(texts: list[str], responses: list[httpx.Response]) -> list[str]:
    """Texts whose 200 response is not the prediction for that very text."""
    return [text for text, r in zip(texts, responses) if r.status_code == 200 and r.json() != fake_prediction(text)]


@pytest.mark.points(2)
def test_sixteen_concurrent_requests_share_one_model_call(create_app, run):
    """16 concurrent requests go to the model in one call of 16 texts."""
    model = FakeSentimentModel(call_s=0.01)

    async def scenario():
        async with InProcessApp(create_app(model.predict_batch), timeout_s=10) as client:
            await wait_until_ready(client)
            texts = [f"concurrent request {i}" for i in range(16)]
            responses = await asyncio.gather(*(post(client, text) for text in texts))
            return texts, responses

    texts, responses = run(scenario())
    assert [r.status_code for r in responses] == [200] * 16, "every request must be answered 200 {label, score}"
    assert not wrong_answers(texts, responses), "each response must be the prediction for its own text"
    assert model.batch_sizes == [16], (
        f"16 concurrent requests reached the model as calls of {model.batch_sizes}: "
        "batch up to max_batch_size=16 texts per model call"
    )


@pytest.mark.points(2)
def test_no_model_call_carries_more_than_max_batch_size(create_app, run):
    """No model call carries more than max_batch_size texts (16 by default, or as configured)."""

    async def burst(max_batch_size: int | None, n: int) -> tuple[FakeSentimentModel, list[str], list[httpx.Response]]:
        model = FakeSentimentModel(call_s=0.01)
        knobs = {} if max_batch_size is None else {"max_batch_size": max_batch_size}
        async with InProcessApp(create_app(model.predict_batch, **knobs), timeout_s=10) as client:
            await wait_until_ready(client)
            texts = [f"burst {n} request {i}" for i in range(n)]
            return model, texts, list(await asyncio.gather(*(post(client, text) for text in texts)))

    for max_batch_size, n, cap in ((None, 50, 16), (5, 23, 5)):
        model, texts, responses = run(burst(max_batch_size, n))
        assert all(r.status_code == 200 for r in responses), "every request of a burst under the queue limit gets 200"
        assert not wrong_answers(texts, responses), "each response must be the prediction for its own text"
        assert sorted(model.texts_seen) == sorted(texts), "each text must reach the model exactly once"
        assert max(model.batch_sizes) <= cap, (
            f"a model call carried {max(model.batch_sizes)} texts with max_batch_size={cap}: "
            f"never put more than max_batch_size texts in one call (calls: {model.batch_sizes})"
        )
        assert cap in model.batch_sizes, f"{n} concurrent requests never filled a batch of {cap}: {model.batch_sizes}"


@pytest.mark.points(2)
def test_lone_request_waits_about_max_wait(create_app, run):
    """A lone request is answered after about max_wait_ms plus model time, not later (50 ms, or as configured)."""
    model_s = 0.02

    async def lone_latencies(max_wait_ms: float | None) -> list[float]:
        model = FakeSentimentModel(call_s=model_s)
        knobs = {} if max_wait_ms is None else {"max_wait_ms": max_wait_ms}
        async with InProcessApp(create_app(model.predict_batch, **knobs), timeout_s=10) as client:
            await wait_until_ready(client)
            latencies = []
            for i in range(3):
                started = time.perf_counter()
                response = await post(client, f"lone request {i}")
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, f"a lone request got {response.status_code}"
            return latencies

    for max_wait_ms in (None, 150):
        wait_s = (max_wait_ms or 50) / 1000
        latency = statistics.median(run(lone_latencies(max_wait_ms)))
        assert latency <= wait_s + model_s + 0.12, (
            f"a lone request took {latency * 1000:.0f} ms with max_wait_ms={wait_s * 1000:.0f} and a "
            f"{model_s * 1000:.0f} ms model: flush whatever waits max_wait_ms after the first text, "
            "do not wait for a full batch"
        )
        assert latency >= 0.8 * wait_s, (
            f"a lone request took {latency * 1000:.0f} ms with max_wait_ms={wait_s * 1000:.0f}: "
            "wait up to max_wait_ms for more texts before calling the model"
        )


@pytest.mark.points(1)
def test_wait_is_counted_from_the_first_waiting_text(create_app, run):
    """The max_wait_ms window starts at the first waiting text: a steady trickle does not postpone the flush."""
    model = FakeSentimentModel()

    async def trickle():
        app = create_app(model.predict_batch, max_batch_size=64, max_wait_ms=50)
        async with InProcessApp(app, timeout_s=10) as client:
            await wait_until_ready(client)
            started = time.perf_counter()
            first = asyncio.create_task(post(client, "trickle 0"))
            first.add_done_callback(lambda _: latencies.append(time.perf_counter() - started))
            others = []
            for i in range(1, 16):  # one request every 20 ms for 300 ms
                await asyncio.sleep(0.02)
                others.append(asyncio.create_task(post(client, f"trickle {i}")))
            return await asyncio.gather(first, *others)

    latencies: list[float] = []
    responses = run(trickle())
    assert all(r.status_code == 200 for r in responses), (
        f"every request of a trickle under the queue limit must be answered 200, got {[r.status_code for r in responses]}"
    )
    assert latencies[0] < 0.2, (
        f"the first of a trickle of requests (one every 20 ms) waited {latencies[0] * 1000:.0f} ms: "
        "flush max_wait_ms after the FIRST waiting text, even if more keep arriving"
    )
    assert len(model.batch_sizes) >= 3, (
        f"a 300 ms trickle went to the model as {model.batch_sizes}: flush every max_wait_ms"
    )


@pytest.mark.points(3)
def test_full_queue_answers_429_and_loses_nothing_accepted(create_app, run, error_message):
    """With queue_limit requests waiting, the excess gets 429 + Retry-After; each accepted request gets its answer."""
    model = FakeSentimentModel(max_pause_s=10)
    queue_limit, batch, extra = 20, 4, 40

    async def flood():
        app = create_app(model.predict_batch, max_batch_size=batch, max_wait_ms=20, queue_limit=queue_limit)
        async with InProcessApp(app, timeout_s=10) as client:
            await wait_until_ready(client)
            model.pause()
            blocker = asyncio.create_task(post(client, "blocker"))
            await until(lambda: model.batches, what="the first request never reached the model")
            texts = [f"flood request {i}" for i in range(extra)]
            tasks = [asyncio.create_task(post(client, text)) for text in texts]
            await until(
                lambda: sum(t.done() for t in tasks) >= extra - queue_limit - batch,
                what=f"with {queue_limit} requests waiting, answer new requests 429 at once, do not queue them",
            )
            await asyncio.sleep(0.2)
            early = [t.result().status_code for t in tasks if t.done()]
            model.resume()
            responses = await asyncio.gather(blocker, *tasks)
            return texts, responses[1:], early

    try:
        texts, responses, early = run(flood())
    finally:
        model.resume()
    statuses = [r.status_code for r in responses]
    rejected = [r for r in responses if r.status_code == 429]
    assert set(early) == {429}, f"while the model was busy only 429s may come back, got {sorted(set(early))}"
    assert set(statuses) <= {200, 429}, f"a flood gets only 200 and 429, got {sorted(set(statuses))}"
    assert extra - queue_limit - batch <= len(rejected) <= extra - queue_limit, (
        f"{len(rejected)} of {extra} requests got 429 with queue_limit={queue_limit} (model busy): "
        f"accept up to queue_limit waiting requests, answer 429 beyond"
    )
    for response in rejected:
        assert response.headers.get("retry-after", "").isdigit(), "a 429 must carry a Retry-After header (seconds)"
        assert error_message(response), 'a 429 carries the JSON error {"error": {"code", "message"}}'
    assert not wrong_answers(texts, responses), "each accepted request must get the prediction for its own text"
    refused = {text for text, r in zip(texts, responses) if r.status_code == 429}
    assert not refused & set(model.texts_seen), "a request answered 429 must never reach the model"


@pytest.mark.points(1)
def test_client_that_went_away_costs_no_model_slot(create_app, run):
    """A waiting request whose client went away is dropped before the model; the others still get answers."""
    model = FakeSentimentModel(max_pause_s=10)

    async def abandon():
        app = create_app(model.predict_batch, max_batch_size=4, max_wait_ms=20)
        async with InProcessApp(app, timeout_s=10) as client:
            await wait_until_ready(client)
            model.pause()
            blocker = asyncio.create_task(post(client, "blocker"))
            await until(lambda: model.batches, what="the first request never reached the model")
            texts = [f"patient {i}" if i % 2 else f"gone {i}" for i in range(8)]
            tasks = [asyncio.create_task(post(client, text)) for text in texts]
            await asyncio.sleep(0.2)
            for text, task in zip(texts, tasks):
                if text.startswith("gone"):
                    task.cancel()  # the client disconnects: its request handler is cancelled
            model.resume()
            await asyncio.gather(*tasks, return_exceptions=True)
            after = await asyncio.wait_for(post(client, "after the abandoned ones"), 5)
            return texts, tasks, await blocker, after

    try:
        texts, tasks, blocker, after = run(abandon())
    finally:
        model.resume()
    kept = [(text, task.result()) for text, task in zip(texts, tasks) if text.startswith("patient")]
    assert blocker.status_code == 200 and after.status_code == 200, (
        "after clients went away the API must keep answering: skip their cancelled futures, do not crash the batcher"
    )
    assert all(r.json() == fake_prediction(text) for text, r in kept), "requests that stayed must get their own answers"
    gone = {text for text in texts if text.startswith("gone")}
    assert not gone & set(model.texts_seen), (
        "texts of clients that went away reached the model: drop a waiting request whose future is cancelled "
        "when you collect the batch, so it costs no model slot"
    )


@pytest.mark.points(1)
def test_a_cancelled_caller_frees_its_queue_slot_at_once(create_app, run):
    """With the queue full, two waiting callers go away: two new requests are accepted at once, not answered 429."""
    model = FakeSentimentModel(max_pause_s=10)
    queue_limit = 3

    async def leave_and_refill():
        app = create_app(model.predict_batch, max_batch_size=4, max_wait_ms=20, queue_limit=queue_limit)
        async with InProcessApp(app, timeout_s=10) as client:
            await wait_until_ready(client)
            model.pause()
            blocker = asyncio.create_task(post(client, "blocker"))
            await until(lambda: model.batches, what="the first request never reached the model")
            holders = [asyncio.create_task(post(client, f"slot holder {i}")) for i in range(queue_limit)]
            await asyncio.sleep(0.2)
            over = await asyncio.wait_for(post(client, "one too many"), 2)
            for holder in holders[:2]:
                holder.cancel()  # their clients went away: their request handlers are cancelled
            await asyncio.sleep(0.05)
            depth = (await client.get("/metrics")).json().get("queue_depth")
            newcomers = [asyncio.create_task(post(client, f"newcomer {i}")) for i in range(2)]
            await asyncio.sleep(0.2)
            refused = [task.result().status_code for task in newcomers if task.done()]
            model.resume()
            await asyncio.gather(*holders, return_exceptions=True)
            return over, depth, refused, await blocker, await holders[2], list(await asyncio.gather(*newcomers))

    try:
        over, depth, refused, blocker, stayed, newcomers = run(leave_and_refill())
    finally:
        model.resume()
    assert over.status_code == 429, (
        f"with queue_limit={queue_limit} requests waiting a new request got {over.status_code}: answer 429"
    )
    assert not refused and depth == 1, (
        f"after 2 of {queue_limit} waiting callers went away, /metrics queue_depth was {depth} and new requests got "
        f"{refused}: a cancelled caller frees its queue slot at once (count the callers that still wait, "
        "not what still sits in a queue)"
    )
    assert [r.status_code for r in (blocker, stayed, *newcomers)] == [200] * 4, (
        "the caller that stayed and the two newcomers must each get their 200 answer"
    )
    assert not {"slot holder 0", "slot holder 1"} & set(model.texts_seen), (
        "the texts of callers that went away must never reach the model"
    )


@pytest.mark.points(1)
def test_adaptive_batching_runs_when_the_model_is_free(create_app, run):
    """batching="adaptive": a lone request does not wait out the window; what waits while the model is busy
    goes in one call."""
    model = FakeSentimentModel(call_s=0.01, max_pause_s=10)
    window_ms = 300

    async def adaptive():
        app = create_app(model.predict_batch, batching="adaptive", max_wait_ms=window_ms)
        async with InProcessApp(app, timeout_s=10) as client:
            await wait_until_ready(client)
            latencies = []
            for i in range(3):
                started = time.perf_counter()
                response = await post(client, f"alone on an idle model {i}")
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, f"a lone request got {response.status_code}"
            model.pause()
            blocker = asyncio.create_task(post(client, "blocker"))
            await until(lambda: len(model.batches) == 4, what="a request never reached the model")
            texts = [f"waiting while busy {i}" for i in range(6)]
            tasks = [asyncio.create_task(post(client, text)) for text in texts]
            await asyncio.sleep(0.1)
            model.resume()
            return latencies, texts, await blocker, list(await asyncio.gather(*tasks))

    try:
        latencies, texts, blocker, responses = run(adaptive())
    finally:
        model.resume()
    latency = statistics.median(latencies)
    assert latency < 0.1, (
        f'with batching="adaptive" and max_wait_ms={window_ms} a lone request on an idle model took '
        f"{latency * 1000:.0f} ms: a batch runs as soon as the model is free; max_wait_ms is never waited out "
        "on an idle model"
    )
    assert blocker.status_code == 200 and all(r.status_code == 200 for r in responses), (
        "every request must be answered 200"
    )
    assert not wrong_answers(texts, responses), "each response must be the prediction for its own text"
    assert model.batch_sizes[3:] == [1, 6], (
        f"6 requests that waited while the model was busy reached it as calls of {model.batch_sizes[4:]}: "
        'with batching="adaptive", a batch takes what waited meanwhile (up to max_batch_size) when the model '
        "is free"
    )


@pytest.mark.points(2)
def test_metrics_report_queue_batches_and_responses(create_app, run):
    """GET /metrics reports queue_depth, batch_sizes and counts of 2xx, 429 and 4xx responses."""
    model = FakeSentimentModel(max_pause_s=10)

    async def traffic():
        async with InProcessApp(
            create_app(model.predict_batch, max_batch_size=2, max_wait_ms=20, queue_limit=3), timeout_s=10
        ) as client:
            await wait_until_ready(client)
            model.pause()
            tasks = [asyncio.create_task(post(client, f"counted {i}")) for i in range(10)]
            await until(lambda: sum(t.done() for t in tasks) >= 10 - 3 - 2 - 2, what="no 429 while the queue was full")
            await asyncio.sleep(0.1)
            during = (await client.get("/metrics")).json()
            model.resume()
            responses = list(await asyncio.gather(*tasks))
            responses.append(await client.post(API, json={"text": ""}))
            return during, responses, (await client.get("/metrics")).json()

    try:
        during, responses, after = run(traffic())
    finally:
        model.resume()
    counts = {
        key: sum(1 for r in responses if r.status_code // 100 == 2)
        if key == "2xx"
        else sum(1 for r in responses if r.status_code == 429)
        if key == "429"
        else sum(1 for r in responses if r.status_code // 100 == 4 and r.status_code != 429)
        for key in ("2xx", "429", "4xx")
    }
    for key in ("queue_depth", "batch_sizes", "responses"):
        assert key in after, f"/metrics must report {key!r}; it answered {sorted(after)}"
    assert 1 <= during["queue_depth"] <= 3, (
        f"with the model busy and queue_limit=3 reached, queue_depth must count the waiting requests, "
        f"got {during['queue_depth']}"
    )
    assert after["queue_depth"] == 0, "once everything is answered queue_depth must be 0"
    for key, expected in counts.items():
        assert after["responses"].get(key) == expected, (
            f"/metrics responses[{key!r}] = {after['responses'].get(key)}, but {expected} such responses were sent"
        )
    histogram = {int(size): int(n) for size, n in after["batch_sizes"].items()}
    assert sum(size * n for size, n in histogram.items()) == counts["2xx"], (
        f"batch_sizes {after['batch_sizes']} must count model calls per batch size, "
        f"covering the {counts['2xx']} answered texts"
    )
    assert histogram == Counter(model.batch_sizes), (
        f"batch_sizes {after['batch_sizes']} must count the model calls of each size; "
        f"the calls were {model.batch_sizes}"
    )
