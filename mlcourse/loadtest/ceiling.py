"""The load generator's own ceiling: the highest rate it sends on time against an endpoint that answers at once.

A load test measures the server only while the generator keeps its schedule. Above its ceiling
the generator sends late (``max_send_lag``) and the latency it reports is its own lag, not the
server's. Measure the ceiling on the same machine, in the same conditions, before trusting a
figure near it: a server capacity is only a finding if it is well below the ceiling (ideally half).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcourse.loadtest.generator import LoadResult, load_http
from mlcourse.loadtest.target import target_served

MAX_LAG_S = 0.02  # sending a request this late means the generator, not the server, set the pace
MAX_P99_MS = 50.0  # an endpoint that answers at once, seen slower than this: the client is the bottleneck


@dataclass
class CeilingRun:
    rate: float
    result: LoadResult

    @property
    def kept_up(self) -> bool:
        return self.result.max_send_lag_s <= MAX_LAG_S and self.result.percentiles_ms()["p99"] <= MAX_P99_MS

    def row(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "kept_up": self.kept_up,
            "max_send_lag_ms": round(self.result.max_send_lag_s * 1e3, 1),
            **{f"{k}_ms": v for k, v in self.result.percentiles_ms().items()},
        }


async def generator_ceiling(rates: list[float], duration_s: float = 2.0) -> tuple[float | None, list[CeilingRun]]:
    """Open-loop load at each rate (ascending) on an instant endpoint in its own process, until a rate
    is missed twice running (one scheduling hiccup of a shared machine is not a verdict); returns the
    highest rate kept up with, and every run."""
    runs: list[CeilingRun] = []
    with target_served() as base_url:
        for rate in sorted(rates):
            for _attempt in range(2):
                runs.append(CeilingRun(rate, await load_http(base_url, rate=rate, duration_s=duration_s)))
                if runs[-1].kept_up:
                    break
            if not runs[-1].kept_up:
                break
    return max((run.rate for run in runs if run.kept_up), default=None), runs
