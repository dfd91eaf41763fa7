"""Fuzz the d1 reference API's input handling with Hypothesis: whatever the body, a documented status
and the JSON error body, never a bare 500 (``make chaos`` sends many more, to ``make serve``)."""

from __future__ import annotations

import httpx
import pytest

from mlcourse.api.models import FakeCost
from mlcourse.api.process import served
from mlcourse.chaos.bodies import fuzz_bodies, poster

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


@pytest.fixture(scope="module")
def client():
    with (
        served("solutions", fake=FakeCost(), ready_timeout_s=60) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        yield http


def test_every_fuzzed_body_gets_a_documented_status_and_the_json_error(client):
    tally = fuzz_bodies(poster(client), examples=150, seed=11)
    assert tally.tried == 150
    assert not tally.problems, "\n".join(tally.problems[:10])
    assert not {status for status in tally.statuses if status >= 500}, (
        f"the fake model never fails, so no body may get a 5xx: {dict(tally.statuses)}"
    )
    metrics = client.get("/metrics").json()["responses"]
    assert metrics.get("5xx", 0) == 0 and sum(metrics.values()) >= 150, f"/metrics must count every answer: {metrics}"
