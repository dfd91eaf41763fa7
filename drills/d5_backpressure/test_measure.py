"""Checks of ``measure.measure_rate`` against the stand-in target, whose latency is known in advance."""

from __future__ import annotations

import random

import httpx
import pytest


@pytest.mark.points(2)
def test_open_loop_sends_on_schedule_through_a_stall_and_its_p99_includes_it(drill, target):
    """A server that stalls once for 1 s: requests still leave on schedule and the p99 includes the stall."""
    measure_rate = drill.module("measure").measure_rate
    rate, duration_s = 50.0, 3.0
    with target(latency_ms=5, stall_after_s=1.0, stall_ms=1000) as base_url:
        measured = measure_rate(base_url, rate, duration_s)
        arrivals = httpx.get(f"{base_url}/arrivals", timeout=5).json()["arrivals_s"]
    during_stall = sum(1.1 <= t <= 1.9 for t in arrivals)
    assert measured.sent == int(rate * duration_s), (
        f"sent {measured.sent} requests in {duration_s:.0f} s at {rate:.0f}/s: an open-loop run sends rate x duration"
    )
    assert during_stall >= 0.7 * 0.8 * rate, (
        f"only {during_stall} requests reached the server during its 1 s stall (about {0.8 * rate:.0f} were due): "
        "send each request at its scheduled time, never wait for earlier answers (open loop)"
    )
    assert 800 <= measured.p99_ms <= 2000, (
        f"p99 {measured.p99_ms} ms on a server that held every request for up to 1 s: count each request's "
        "latency from its scheduled send time, so the stall's queue is charged to the server"
    )
    assert measured.p50_ms < 500, f"p50 {measured.p50_ms} ms on a server answering in 5 ms outside the stall"


@pytest.mark.points(2)
def test_percentiles_match_a_server_of_known_latency(drill, target):
    """p50, p95 and p99 right on a server answering 9 in 10 requests in L ms and every 10th in S ms."""
    measure_rate = drill.module("measure").measure_rate
    draw = random.Random()
    fast_ms, slow_ms = round(draw.uniform(20, 60)), round(draw.uniform(250, 450))
    with target(latency_ms=fast_ms, slow_ms=slow_ms, slow_every=10) as base_url:
        measured = measure_rate(base_url, 40.0, 2.5)
    assert measured.statuses == {"200": 100}, f"statuses {measured.statuses}: expected 100 answers 200"
    assert fast_ms <= measured.p50_ms <= fast_ms + 150, (
        f"p50 {measured.p50_ms} ms; 9 in 10 requests took {fast_ms} ms: the median of the answered latencies"
    )
    for name, value in (("p95", measured.p95_ms), ("p99", measured.p99_ms)):
        assert slow_ms <= value <= slow_ms + 300, (
            f"{name} {value} ms; every 10th request took {slow_ms} ms, so p95 and p99 are among those"
        )
    assert measured.throughput == pytest.approx(40.0, rel=0.1), (
        f"throughput {measured.throughput}/s: 200 answers per second of the run, here 100 in 2.5 s"
    )
