"""Find a configuration's capacity: the highest rate with p99 under the SLO and no 429, by bracketing.

Double the rate until a probe fails (or halve it until one passes): that brackets the capacity.
Then probe the geometric middle of the bracket until it is narrower than ``precision`` (lowest failing
rate / highest passing rate <= 1 + precision), or until the next probe would spend more requests than
the budget has left. A failed probe is repeated once before the rate counts as failed (one scheduling
hiccup of a shared machine can make a p99); a repeat over budget is not run, and the rate counts as failed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from .measure import Measurement, measure_rate

MAX_PROBES = 20
MIN_PROBE_REQUESTS = 10  # fewer than this says nothing about a p99


@dataclass
class Capacity:
    rate: float | None  # highest passing rate (None: even the lowest probe failed)
    failed_rate: float | None  # lowest failing rate (None: never failed within the budget)
    slo_p99_ms: float
    requests: int  # requests spent
    probes: list[Measurement] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "failed_rate": self.failed_rate,
            "slo_p99_ms": self.slo_p99_ms,
            "requests": self.requests,
            "probes": [
                {"rate": p.rate, "p99_ms": p.p99_ms, "share_429": p.share_429, "passed": passes(p, self.slo_p99_ms)}
                for p in self.probes
            ],
        }


def passes(measurement: Measurement, slo_p99_ms: float) -> bool:
    """Every request answered 200, and the p99 under the SLO."""
    answered = measurement.statuses.get("200", 0) == measurement.sent > 0
    return answered and measurement.p99_ms < slo_p99_ms


def probe_passes(base_url: str, rate: float, found: Capacity, probe_s: float) -> bool:
    """One probe at ``rate``, recorded in ``found``."""
    probe = measure_rate(base_url, rate, probe_s)
    found.probes.append(probe)
    found.requests += probe.sent
    return passes(probe, found.slo_p99_ms)


def find_capacity(
    base_url: str,
    *,
    slo_p99_ms: float = 250.0,
    start_rate: float = 10.0,
    probe_s: float = 2.0,
    max_requests: int = 10_000,
    precision: float = 0.1,
) -> Capacity:
    """Bracket then bisect; never spend more than ``max_requests`` requests."""
    found = Capacity(None, None, slo_p99_ms, 0)
    rate = start_rate
    for _ in range(MAX_PROBES):
        cost = math.ceil(rate * probe_s)
        if cost < MIN_PROBE_REQUESTS or found.requests + cost > max_requests:
            break
        passed = probe_passes(base_url, rate, found, probe_s)
        if not passed and found.requests + cost <= max_requests:
            time.sleep(0.3)  # what the failed probe left queued drains
            passed = probe_passes(base_url, rate, found, probe_s)  # one hiccup of a shared machine is not a verdict
        if passed:
            found.rate = max(found.rate or 0.0, rate)
        else:
            found.failed_rate = min(found.failed_rate or math.inf, rate)
        time.sleep(0.3)
        if found.failed_rate is None:
            rate *= 2
        elif found.rate is None:
            rate /= 2
        elif found.failed_rate / found.rate <= 1 + precision:
            break
        else:
            rate = math.sqrt(found.rate * found.failed_rate)
    return found
