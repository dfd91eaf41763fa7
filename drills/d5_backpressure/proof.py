"""The backpressure proof: serve the d1 API with each batching policy, find each capacity, sweep the same rates.

Every server runs in its own process on loopback (``mlcourse.api.process.served``), all at once,
so every policy is measured in the same conditions. Bounded: each capacity search spends at most
``max_requests`` requests, each sweep run lasts ``run_s``, and a rate above ``max_rate`` is clamped to it.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from mlcourse.api.models import FakeCost
from mlcourse.api.process import served

from .capacity import find_capacity
from .measure import measure_rate
from .report import verdicts, write_proof_report

POLICIES = ("none", "window", "adaptive")  # batching off, size-or-timeout, run when the model is free
SWEEP_FACTORS = (0.5, 1.0, 2.0)  # below, at and above each capacity


def sweep_rates(capacities: dict[str, float | None], focus_rate: float, max_rate: float) -> list[float]:
    """The sweep rule of the README: the same rates for every policy; a rate above ``max_rate`` is clamped to it."""
    raise NotImplementedError(
        "The sweep rule: half, once and twice each capacity and the focus rate, a rate above max_rate clamped to "
        "max_rate, rounded to 0.1 req/s, each once, in increasing order. Taught in notebook 07, section 9; "
        "stuck: README.md, Hints."
    )


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
    raise NotImplementedError(
        "Serve d1 once per policy, find each capacity, sweep the same rates on each, policy by policy, and write "
        "report.md, report.json (the README's layout, with the verdicts) and report.png; return report.json's data. "
        "Taught in notebook 07, section 9; stuck: README.md, Hints."
    )
