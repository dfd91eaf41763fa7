"""The backpressure proof: serve the d1 API with each batching policy, find each capacity, sweep the same rates.

Every server runs in its own process on loopback (``mlcourse.api.process.served``), all at once,
so every policy is measured in the same conditions. Bounded: each capacity search spends at most
``max_requests`` requests, each sweep run lasts ``run_s``, and a rate above ``max_rate`` is clamped to it.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from mlcourse.api.models import FakeCost
from mlcourse.api.process import served

from .capacity import find_capacity
from .measure import measure_rate
from .report import verdicts, write_proof_report

POLICIES = ("none", "window", "adaptive")  # batching off, size-or-timeout, run when the model is free
SWEEP_FACTORS = (0.5, 1.0, 2.0)  # below, at and above each capacity


def sweep_rates(capacities: dict[str, float | None], focus_rate: float, max_rate: float) -> list[float]:
    """The same rates for every policy: half, once and twice each capacity, and the focus rate.

    A rate above ``max_rate`` is clamped to ``max_rate`` (so the sweep still ends at an overload when
    the bound allows one); rates are rounded to 0.1 req/s and each appears once, in increasing order.
    """
    rates = {
        focus_rate,
        *(factor * capacity for capacity in capacities.values() if capacity for factor in SWEEP_FACTORS),
    }
    return sorted({round(min(rate, max_rate), 1) for rate in rates if rate > 0})


def queue_limit_of(base_url: str) -> int | None:
    limits = httpx.get(f"{base_url}/metrics", timeout=5).json().get("limits", {})
    return limits.get("queue_limit")


def run_proof(
    out_dir: Path,
    *,
    impl: str,
    model: str | None = None,
    fake: FakeCost | None = None,
    policies: tuple[str, ...] = POLICIES,
    slo_p99_ms: float = 250.0,
    focus_rate: float = 100.0,
    start_rate: float = 10.0,
    probe_s: float = 2.0,
    run_s: float = 3.0,
    queue_limit: int | None = None,
    max_rate: float = 2000.0,
    max_requests: int = 20_000,
    precision: float = 0.1,
) -> dict[str, object]:
    """Find each policy's capacity, sweep the same rates on each, write report.md/.json/.png; return the data."""
    started = time.monotonic()
    out_dir = Path(out_dir)
    focus_rate = sweep_rates({}, focus_rate, max_rate)[0]  # as swept (clamped, rounded): verdicts name swept rates
    policy_data: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack:
        urls = {
            policy: stack.enter_context(
                served(
                    impl,
                    model=model,
                    fake=fake,
                    batching=policy,
                    queue_limit=queue_limit,
                    log_path=out_dir / f"server-{policy}.log",
                )
            ).url
            for policy in policies
        }
        for policy, url in urls.items():
            measure_rate(url, start_rate, 1.0)  # warm-up, discarded: first calls pay for lazy loading
            capacity = find_capacity(
                url,
                slo_p99_ms=slo_p99_ms,
                start_rate=start_rate,
                probe_s=probe_s,
                max_requests=max_requests,
                precision=precision,
            )
            policy_data[policy] = {"queue_limit": queue_limit_of(url), "capacity": capacity.summary()}
        rates = sweep_rates({p: d["capacity"]["rate"] for p, d in policy_data.items()}, focus_rate, max_rate)
        for policy, url in urls.items():
            policy_data[policy]["runs"] = [measure_rate(url, rate, run_s).summary() for rate in rates]
    data = {
        "config": {
            "impl": impl,
            "model": str(fake) if fake else model or "default",
            "policies": list(policies),
            "slo_p99_ms": slo_p99_ms,
            "focus_rate": focus_rate,
            "probe_s": probe_s,
            "run_s": run_s,
            "max_rate": max_rate,
            "max_requests_per_search": max_requests,
            "precision": precision,
        },
        "rates": rates,
        "policies": policy_data,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    data["verdicts"] = verdicts(data)
    write_proof_report(out_dir, data)
    return data
