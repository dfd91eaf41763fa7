"""Measure the served API: one open-loop rate, the batch sizes the server used meanwhile, and a sweep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from mlcourse.loadtest.generator import LoadResult, load_http

P99_TARGET_MS = 250.0
MIN_OK_SHARE = 0.99
WARMUP_RATE = 50.0


def batch_sizes(base_url: str) -> dict[int, int]:
    """The app's batch-size histogram from /metrics ({} if it has none)."""
    try:
        return {int(k): int(v) for k, v in httpx.get(f"{base_url}/metrics", timeout=5).json()["batch_sizes"].items()}
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def batches_between(before: dict[int, int], after: dict[int, int]) -> dict[int, int]:
    """The model calls per batch size made between two /metrics histograms."""
    return {size: after[size] - before.get(size, 0) for size in sorted(after) if after[size] > before.get(size, 0)}


def mean_batch(batches: dict[int, int]) -> float:
    calls = sum(batches.values())
    return sum(size * n for size, n in batches.items()) / calls if calls else float("nan")


@dataclass
class Run:
    """One measured rate: the load result and the batch sizes the server used meanwhile."""

    result: LoadResult
    batches: dict[int, int]

    @property
    def mean_batch(self) -> float:
        return mean_batch(self.batches)

    def sustained(self, p99_ms: float = P99_TARGET_MS) -> bool:
        return self.result.percentiles_ms()["p99"] < p99_ms and self.result.share(200) >= MIN_OK_SHARE

    def row(self) -> dict[str, Any]:
        return {**self.result.summary(), "mean_batch": round(self.mean_batch, 2), "batch_sizes": self.batches}


def measure(base_url: str, rate: float, duration_s: float, *, warmup_s: float = 1.0) -> Run:
    """Warm up (discarded, at a pace the server surely sustains, so no backlog is left), then an
    open-loop run at ``rate``; batch sizes are the difference of /metrics before and after."""
    if warmup_s > 0:
        asyncio.run(load_http(base_url, rate=min(rate, WARMUP_RATE), duration_s=warmup_s))
        time.sleep(0.5)
    before = batch_sizes(base_url)
    result = asyncio.run(load_http(base_url, rate=rate, duration_s=duration_s))
    return Run(result, batches_between(before, batch_sizes(base_url)))


class Sweep(NamedTuple):
    """Every run in rate order, the highest sustained rate (``None``: none was), and the run at twice it."""

    runs: list[Run]
    sustainable_rate: float | None
    overload: Run | None


def sweep(
    base_url: str,
    rates: list[float],
    duration_s: float,
    p99_ms: float = P99_TARGET_MS,
    on_run: Callable[[Run, str], None] = lambda run, note: None,
) -> Sweep:
    """Each rate in order, the highest sustained one, and a run at twice that rate; ``on_run`` hears of each."""
    runs = []
    for rate in sorted(rates):
        runs.append(measure(base_url, rate, duration_s))
        on_run(runs[-1], "")
        time.sleep(1.0)  # let the queue drain between rates
    sustained = [run for run in runs if run.sustained(p99_ms)]
    best = max((run.result.rate for run in sustained), default=None)
    overload = None
    if best is not None:
        overload = measure(base_url, 2 * best, duration_s)
        on_run(overload, "twice the sustainable rate")
    return Sweep(runs, best, overload)
