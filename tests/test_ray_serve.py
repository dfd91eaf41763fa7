"""Drill d1's HTTP contract on Ray Serve, against a local cluster with the fake model; Ray Data's batch job.

One small cluster for the module (starting Ray costs seconds): the sentiment app at ``/``, a
deliberately tight one at ``/tight`` to overflow its queue, and a Ray Data job on a small CSV.
The cluster's teardown fails the run if Ray leaves a process behind.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import polars as pl
import pytest

pytest.importorskip("ray.serve")

from mlcourse.api.contract import MAX_BODY_BYTES, MAX_TEXT_CHARS
from mlcourse.api.fake_model import fake_prediction
from mlcourse.api.models import FakeCost
from mlcourse.api.process import free_port
from mlcourse.distributed import cluster
from mlcourse.distributed.app import run, sentiment_app
from mlcourse.distributed.batch_job import read_results, score_csv
from mlcourse.distributed.model import MAX_BATCH_SIZE, ModelSpec

pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(240)]  # the reference's input parsing; a Ray start

API = "/api/sentiment"
JSON = {"content-type": "application/json"}
FAKE = ModelSpec(fake=FakeCost())
SLOW = ModelSpec(fake=FakeCost(0.3, 0.0))  # a model slow enough to overflow a queue of 2 with a handful of requests

BAD_INPUTS = [  # (request keyword arguments, expected status, expected error code)
    ({"content": b'{"text": "unterminated', "headers": JSON}, 400, "invalid_json"),
    ({"content": b'{"text": "hi"}', "headers": {"content-type": "text/plain"}}, 415, "unsupported_media_type"),
    ({"json": ["I love Elixir!"]}, 422, "invalid_body"),
    ({"json": {"message": "hi"}}, 422, "missing_text"),
    ({"json": {"text": "   "}}, 422, "empty_text"),
    ({"json": {"text": 42}}, 422, "invalid_text"),
    ({"json": {"text": "a" * (MAX_TEXT_CHARS + 1)}}, 422, "text_too_long"),
    ({"json": {"text": "bell \u0007 ring"}}, 422, "control_character"),
    ({"content": json.dumps({"text": "a" * MAX_BODY_BYTES}).encode(), "headers": JSON}, 413, "body_too_large"),
]


@pytest.fixture(scope="module")
def urls():
    cluster.start(num_cpus=2)
    try:
        port = free_port()
        main = run(sentiment_app(FAKE, impl="solutions", model_cpus=0.25), port)
        tight = run(
            sentiment_app(SLOW, impl="solutions", model_cpus=0.25, max_ongoing=1, queue_limit=2),
            port,
            name="tight",
            route_prefix="/tight",
        )
        yield {"main": main, "tight": tight}
    finally:
        left = cluster.stop()
        assert not left, f"Ray left processes behind after serve.shutdown() and ray.shutdown(): {left}"


def test_a_text_gets_the_models_prediction(urls):
    text = "I love this great course"
    response = httpx.post(urls["main"] + API, json={"text": text}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == fake_prediction(text)


@pytest.mark.parametrize(("request_kwargs", "status", "code"), BAD_INPUTS, ids=[case[2] for case in BAD_INPUTS])
def test_each_bad_input_gets_its_4xx_with_the_contracts_body(urls, request_kwargs, status, code):
    response = httpx.post(urls["main"] + API, timeout=10, **request_kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_unknown_routes_answer_in_the_contracts_shape(urls):
    response = httpx.get(urls["main"] + "/nowhere", timeout=10)
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message"}


def test_health_says_ready_and_metrics_show_batches_of_at_most_16(urls):
    assert httpx.get(urls["main"] + "/healthz", timeout=10).status_code == 200

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=urls["main"], timeout=20) as client:
            replies = await asyncio.gather(*(client.post(API, json={"text": f"text number {i}"}) for i in range(48)))
        return [reply.status_code for reply in replies]

    assert asyncio.run(burst()) == [200] * 48
    sizes = {int(size): n for size, n in httpx.get(urls["main"] + "/metrics", timeout=10).json()["batch_sizes"].items()}
    assert max(sizes) <= MAX_BATCH_SIZE, f"a batch bigger than {MAX_BATCH_SIZE}: {sizes}"
    assert max(sizes) > 1, f"48 concurrent requests were never batched: {sizes}"


def test_a_full_queue_answers_429_with_retry_after_at_once(urls):
    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=urls["tight"], timeout=30) as client:
            return await asyncio.gather(*(client.post(API, json={"text": f"flood {i}"}) for i in range(12)))

    replies = asyncio.run(asyncio.wait_for(flood(), 60))
    statuses = sorted(reply.status_code for reply in replies)
    assert set(statuses) == {200, 429}, f"expected some 200 and the overflow 429, got {statuses}"
    refused = next(reply for reply in replies if reply.status_code == 429)
    assert refused.headers.get("retry-after") == "1"
    assert refused.json()["error"]["code"] == "queue_full"


def test_ray_data_scores_every_row_once(urls, tmp_path):
    rows = pl.DataFrame({"id": [f"r{i}" for i in range(300)], "text": [f"I like row {i}" for i in range(300)]})
    rows.write_csv(tmp_path / "in.csv")
    result = score_csv(tmp_path / "in.csv", tmp_path / "out", FAKE, actors=1, batch_size=50, cpus_per_actor=0.25)
    scored = read_results(result.out_dir)
    assert result.rows == 300
    assert sorted(scored["id"].to_list()) == sorted(rows["id"].to_list())
    assert set(scored["label"].to_list()) == {"positive"}
