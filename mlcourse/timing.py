"""Wall-clock timing that waits for JAX's asynchronous results, for checks and notebooks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax


@dataclass(frozen=True)
class Timing:
    min_s: float
    median_s: float


def measure(fn: Callable, *args, repeats: int = 5, warmup: int = 1) -> Timing:
    """Time ``fn(*args)`` after ``warmup`` calls, blocking until each result is ready.

    JAX dispatches work asynchronously: without ``block_until_ready`` a timer would
    measure how long it takes to *queue* the computation, not to run it.
    """
    for _ in range(warmup):
        jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return Timing(min(samples), statistics.median(samples))


def matmul_gflops(n: int, seconds: float) -> float:
    """An n x n by n x n product costs 2 n^3 floating-point operations."""
    return 2 * n**3 / seconds / 1e9
