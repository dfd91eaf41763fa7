"""Measure one offered rate: open-loop load, latency from each request's scheduled time, queue depth meanwhile."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

from mlcourse.loadtest.generator import (
    loopback_client,
    open_connections,
    require_loopback,
    run_open_loop,
    sentiment_sender,
)
from mlcourse.loadtest.queue_depth import sample_queue_depth

CONNECTIONS = 8  # opened before the clock starts


@dataclass
class Measurement:
    """What one rate did: latency percentiles of the 200s, throughput, statuses, queue depth over time."""

    rate: float  # offered, requests per second
    duration_s: float
    sent: int
    statuses: dict[str, int]  # "200" -> count, "429" -> count, "0" for no answer
    throughput: float  # 200 answers per second of schedule
    share_429: float
    p50_ms: float  # of the 200 answers, counted from each request's scheduled send time
    p95_ms: float
    p99_ms: float
    max_send_lag_ms: float  # the generator's own lateness: large means it, not the server, set the pace
    depth: list[tuple[float, int]] = field(default_factory=list)  # (seconds into the run, queue depth)

    @property
    def max_depth(self) -> int:
        return max((d for _, d in self.depth), default=0)

    @property
    def median_depth(self) -> float:
        values = sorted(d for _, d in self.depth)
        return float(values[len(values) // 2]) if values else math.nan

    def summary(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "sent": self.sent,
            "statuses": self.statuses,
            "throughput": self.throughput,
            "share_429": self.share_429,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_send_lag_ms": self.max_send_lag_ms,
            "max_depth": self.max_depth,
            "median_depth": self.median_depth,
            "depth": self.depth,
        }


async def measure_rate_async(
    base_url: str, rate: float, duration_s: float, *, sample_every_s: float = 0.05, timeout_s: float = 10.0
) -> Measurement:
    """Open-loop load at ``rate`` for ``duration_s`` while /metrics' queue depth is sampled.

    The connections open before the clock starts: a fresh connection costs the first requests tens
    of ms on a busy machine, and with few requests that one outlier would be the p99.
    """
    raise NotImplementedError(
        "One rate measured open loop on loopback while /metrics' queue depth is sampled: a Measurement with the "
        "p50/p95/p99 of the 200s counted from each scheduled time, throughput, status counts, 429 share, depth "
        "samples and the generator's lag. Taught in notebook 07, section 5; stuck: README.md, Hints."
    )


def measure_rate(
    base_url: str, rate: float, duration_s: float, *, sample_every_s: float = 0.05, timeout_s: float = 10.0
) -> Measurement:
    """Blocking :func:`measure_rate_async`: load only ever goes to a loopback address."""
    return asyncio.run(
        measure_rate_async(base_url, rate, duration_s, sample_every_s=sample_every_s, timeout_s=timeout_s)
    )
