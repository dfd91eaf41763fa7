"""Checks of capacity, queue depth, 429 share and batching, against d1 servers of a cost drawn at random."""

from __future__ import annotations

import random

import pytest

SLO_P99_MS = 400.0
PROBE_S, PROBE_REQUESTS = 1.5, 10  # the first probe has at least that many requests: fewer say nothing of a p99


def start_rate(capacity: float) -> float:
    """A starting point below the capacity, drawn so the search must bracket it, with a first probe worth measuring."""
    return round(max(capacity * random.uniform(0.3, 0.45), PROBE_REQUESTS / PROBE_S + 0.1), 1)


@pytest.mark.points(3)
@pytest.mark.parametrize("batching", ["none", "window"])
def test_capacity_is_found_within_25_percent_of_the_analytic_value(drill, fake_cost, batch_size, batching, request):
    """The bracketing search finds the highest rate with p99 < SLO and no 429, within 25 % of the analytic capacity."""
    url = request.getfixturevalue("unbatched_url" if batching == "none" else "batched_url")
    capacity = fake_cost.capacity(1 if batching == "none" else batch_size)
    found = drill.module("capacity").find_capacity(
        url, slo_p99_ms=SLO_P99_MS, start_rate=start_rate(capacity), probe_s=PROBE_S, max_requests=2000, precision=0.25
    )
    assert found.requests <= 2000, (
        f"the search spent {found.requests} requests, over max_requests=2000: a probe, or a repeat, that would pass "
        "the budget is not run (README, Capacity search)"
    )
    assert found.rate is not None and 0.75 * capacity <= found.rate <= 1.25 * capacity, (
        f"capacity found {found.rate} req/s with batching {batching}; the {fake_cost} sustains {capacity:.1f} "
        "req/s: the README's capacity search (double the rate until a probe fails, then bisect the bracket); a probe "
        "passes when every request was answered 200 and its p99 is under the SLO"
    )


@pytest.fixture(scope="module")
def half_and_twice(drill, fake_cost, small_queue_url):
    """The unbatched server (queue limit 10) measured at half and at twice its capacity, once for two checks."""
    measure_rate = drill.module("measure").measure_rate
    capacity = fake_cost.capacity(1)
    return measure_rate(small_queue_url, 0.5 * capacity, 2.0), measure_rate(small_queue_url, 2 * capacity, 2.5)


@pytest.mark.points(2)
def test_queue_depth_is_near_zero_at_half_capacity_and_at_its_limit_at_twice(fake_cost, half_and_twice):
    """Queue depth sampled from /metrics: near 0 at half the capacity, at the limit (10) at twice it."""
    calm, flooded = half_and_twice
    assert len(calm.depth) >= 10 and len(flooded.depth) >= 10, (
        "sample /metrics' queue_depth during the run (every 50 ms or so): got "
        f"{len(calm.depth)} and {len(flooded.depth)} samples in 2 s"
    )
    calm_median = sorted(d for _, d in calm.depth)[len(calm.depth) // 2]
    late = sorted(d for t, d in flooded.depth if t >= 1.0)
    assert calm_median <= 1, f"median queue depth {calm_median} at half the capacity ({fake_cost}): expected ~0"
    assert late and late[len(late) // 2] >= 8, (
        f"median queue depth {late[len(late) // 2] if late else None} after the first second at twice the capacity: "
        "expected the limit, 10 (depth samples must come from the server's /metrics during the run)"
    )


@pytest.mark.points(2)
def test_429_share_is_zero_below_capacity_and_one_minus_capacity_over_rate_above(fake_cost, half_and_twice):
    """No 429 at half the capacity; at twice it, a 429 share within 0.15 of 1 - capacity/rate."""
    calm, flooded = half_and_twice
    capacity = fake_cost.capacity(1)
    counted = flooded.statuses.get("429", 0) / flooded.sent
    assert calm.share_429 == 0, f"429 share {calm.share_429} at half the capacity: the queue should never fill"
    assert flooded.share_429 == pytest.approx(counted, abs=1e-3), (
        f"share_429 {flooded.share_429} disagrees with the status counts {flooded.statuses}"
    )
    assert abs(flooded.share_429 - (1 - capacity / flooded.rate)) <= 0.15, (
        f"429 share {flooded.share_429:.2f} at {flooded.rate:.0f} req/s, twice the capacity of the {fake_cost}: "
        f"a bounded queue sheds about 1 - capacity/rate = {1 - capacity / flooded.rate:.2f}"
    )


@pytest.mark.points(2)
def test_batching_cuts_p99_between_the_two_capacities(drill, fake_cost, batch_size, unbatched_url, batched_url):
    """At a rate above the unbatched capacity and below the batched one, p99 with batching is below p99 without."""
    measure_rate = drill.module("measure").measure_rate
    low, high = fake_cost.capacity(1), fake_cost.capacity(batch_size)
    rate = round(min(1.5 * low, 0.75 * high), 1)
    without = measure_rate(unbatched_url, rate, 2.0)
    with_batching = measure_rate(batched_url, rate, 2.0)
    assert with_batching.p99_ms < without.p99_ms, (
        f"at {rate} req/s ({fake_cost}) p99 with batching {with_batching.p99_ms} ms, without {without.p99_ms} ms: "
        "above the unbatched capacity the queue grows, batching should cut p99"
    )
    assert with_batching.statuses.get("200", 0) == with_batching.sent, (
        f"batched server at {rate} req/s answered {with_batching.statuses}: below its capacity all should be 200"
    )
