"""Fixtures for the d5 checks: servers of known cost, drawn at random each run, that the checks start.

The d1 API (of the implementation under test) serves the fake model at a cost drawn here, so
its capacity is known in advance to the checks and to nobody else: only measurement finds it.
The stand-in target (``mlcourse.loadtest.target``) has a latency known in advance, or one stall.
Every server listens on loopback only and stops when its checks end.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mlcourse.api.models import FakeCost
from mlcourse.api.process import ServerError, served
from mlcourse.loadtest.target import target_served

BATCH = 4  # the batched server's max_batch_size
WAIT_MS = 50.0


@pytest.fixture(scope="session")
def fake_cost() -> FakeCost:
    """Drawn once per run, so no hard-coded answer can pass."""
    draw = random.Random()
    return FakeCost(round(draw.uniform(30, 50), 1) / 1000, round(draw.uniform(5, 10), 1) / 1000)


@contextmanager
def d1_server(drill, cost: FakeCost, **knobs: Any) -> Iterator[str]:
    try:
        with served(drill.impl.label, fake=cost, **knobs) as server:
            yield server.url
    except ServerError as error:
        pytest.fail(
            f"d5 stresses your d1 API (d1_sentiment_api of {drill.impl.label}) and it did not serve: "
            f"finish d1 first. {error}"
        )


@pytest.fixture(scope="module")
def unbatched_url(drill, fake_cost) -> Iterator[str]:
    """The d1 API with batching off (batch size 1), queue limit 30."""
    with d1_server(drill, fake_cost, batching="none", queue_limit=30) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def batched_url(drill, fake_cost) -> Iterator[str]:
    """The d1 API with the size-or-timeout window (batch 4, 50 ms), queue limit 30."""
    with d1_server(
        drill, fake_cost, batching="window", max_batch_size=BATCH, max_wait_ms=WAIT_MS, queue_limit=30
    ) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def small_queue_url(drill, fake_cost) -> Iterator[str]:
    """The d1 API with batching off and a queue limit of 10: it saturates within a fraction of a second."""
    with d1_server(drill, fake_cost, batching="none", queue_limit=10) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def batch_size() -> int:
    """The batched server's max_batch_size."""
    return BATCH


@pytest.fixture
def target():
    """``with target(latency_ms=..., ...) as base_url``: the stand-in server of known latency."""
    return target_served
