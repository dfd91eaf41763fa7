"""The serving-efficiency tool measures what it says: saturation finds a known capacity, profiles are split right."""

from __future__ import annotations

import asyncio

import pytest

from mlcourse.loadtest.efficiency import profile_shares, render, saturate
from mlcourse.loadtest.target import target_served


def test_saturation_finds_the_capacity_of_a_single_server_queue():
    """One request at a time, 20 ms each: 50 per second, whatever the clients' concurrency."""
    with target_served(service_ms=20) as base_url:
        found = asyncio.run(saturate(base_url, concurrency=16, duration_s=2.0))
    assert found["statuses"] == {"200": found["sent"]}
    assert found["capacity"] == pytest.approx(50, rel=0.2), f"measured {found['capacity']} req/s, expected ~50"


def test_profile_samples_are_split_between_the_model_and_the_event_loop(tmp_path):
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(
        "thread (1): uvloop_0;_worker (thread.py:83);SentimentServing.predict_batch (serving.py:58) 90\n"
        "thread (2): MainThread;Server.run (uvicorn/server.py:86);respond (app.py:10) 8\n"
        "thread (3): gc;collect (gc.py:1) 2\n"
    )
    assert profile_shares(collapsed) == {
        "model (predict_batch)": 0.9,
        "event loop (HTTP, JSON, batcher)": 0.08,
        "other": 0.02,
    }


def test_report_flags_a_generator_too_slow_for_the_capacity():
    data = {
        "generator_ceiling": 200.0,
        "offline_texts_per_s": 180.0,
        "server": {"capacity": 150.0},
        "mean_batch": 16.0,
        "efficiency": 150 / 180,
        "generator_not_the_limit": False,
    }
    assert "may be the generator's" in render(data)
