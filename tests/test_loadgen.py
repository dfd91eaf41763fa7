"""The open-loop generator keeps its schedule, charges lateness to latency, and stays bounded."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from mlcourse.loadtest.generator import NO_ANSWER, LoadResult, loopback_client, require_loopback, run_open_loop


async def instant(i: int) -> int:
    return 200


def test_requests_leave_on_a_fixed_schedule():
    result = asyncio.run(run_open_loop(instant, rate=200, duration_s=0.5))
    assert result.sent == 100
    assert result.due_s[:3] == [0.0, 0.005, 0.01]
    assert result.status_counts() == {"200": 100}
    assert 0.45 < result.wall_s < 1.5


def test_slow_answers_do_not_slow_the_arrivals():
    """A closed loop would send 2 requests in 0.5 s against a 0.3 s server; the open loop sends all 50."""

    async def slow(i: int) -> int:
        await asyncio.sleep(0.3)
        return 200

    result = asyncio.run(run_open_loop(slow, rate=100, duration_s=0.5))
    assert result.sent == 50
    assert min(result.latency_s) >= 0.29
    assert result.wall_s < 0.5 + 0.3 + 0.5


def test_latency_counts_from_the_due_time_not_the_send_time():
    """If the sender falls behind (here: a send that blocks the loop), the lateness is charged to latency."""

    async def blocks_once(i: int) -> int:
        if i == 0:
            time.sleep(0.1)  # noqa: ASYNC251 (the check: a send that blocks the loop)
        return 200

    result = asyncio.run(run_open_loop(blocks_once, rate=100, duration_s=0.2))
    assert result.latency_s[1] >= 0.08, "request 1 was due at 10 ms and could only leave after 100 ms"
    assert result.max_send_lag_s >= 0.08


def test_unanswered_requests_are_bounded_by_the_timeout():
    async def never(i: int) -> int:
        await asyncio.sleep(10)
        return 200

    started = time.perf_counter()
    result = asyncio.run(run_open_loop(never, rate=20, duration_s=0.2, timeout_s=0.1))
    assert time.perf_counter() - started < 2
    assert result.status == [NO_ANSWER] * 4
    assert result.errors == {"TimeoutError": 4}
    assert all(0.09 < latency < 0.5 for latency in result.latency_s)


def test_request_count_is_capped():
    result = asyncio.run(run_open_loop(instant, rate=1000, duration_s=1, max_requests=10))
    assert result.sent == 10


def test_percentiles_and_shares():
    result = LoadResult(
        rate=10,
        duration_s=1,
        due_s=[i / 10 for i in range(10)],
        latency_s=[0.01 * (i + 1) for i in range(10)],
        status=[200] * 8 + [429] * 2,
    )
    assert result.share(429) == 0.2
    assert result.percentiles_ms()["max"] == 80.0  # 200s only
    assert result.percentiles_ms(None)["max"] == 100.0
    assert result.percentiles_ms()["p50"] == pytest.approx(45.0)
    assert math.isnan(LoadResult(rate=1, duration_s=1).percentiles_ms()["p99"])
    assert result.summary()["statuses"] == {"200": 8, "429": 2}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:8000"])
def test_loopback_targets_are_accepted(url):
    require_loopback(url)


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.1:8000", "http://0.0.0.0:8000"])
def test_other_targets_are_refused(url):
    with pytest.raises(ValueError, match="loopback"):
        loopback_client(url)
