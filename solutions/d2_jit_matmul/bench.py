"""Benchmark the compiled matmul against the non-compiled reference and NumPy's BLAS, in one run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from .matmul import matmul, reference_matmul

SIZES = (256, 512, 1024, 2048)


def time_calls(fn: Callable, a, b, repeats: int) -> dict[str, float]:
    """Time the first call on its own, then ``repeats`` steady-state calls.

    The first call of a jitted function traces and compiles it; counting it with the
    others would blame XLA's compile time on every run. ``block_until_ready`` makes the
    timer wait for the result, since JAX returns before the computation finishes.
    """
    start = time.perf_counter()
    jax.block_until_ready(fn(a, b))
    first_call = time.perf_counter() - start
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(a, b))
        samples.append(time.perf_counter() - start)
    return {"first_call_s": first_call, "min_s": min(samples), "median_s": statistics.median(samples)}


def run_benchmark(sizes: Sequence[int] = SIZES, repeats: int = 5, reference_repeats: int = 2) -> dict:
    """Time every backend at every size on float32 square matrices; one row per (size, backend, device)."""
    rng = np.random.default_rng(0)
    rows = []
    for n in tqdm(sizes, desc="matmul sizes"):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        reference: dict[str, Any] = {
            "backend": "reference",
            "device": "cpu",
            **time_calls(reference_matmul, a, b, reference_repeats),
        }
        size_rows = [reference, {"backend": "numpy-blas", "device": "cpu", **time_calls(np.matmul, a, b, repeats)}]
        for device in jax.devices():
            a_on, b_on = jax.device_put(a, device), jax.device_put(b, device)
            size_rows.append({"backend": "jax-jit", "device": str(device), **time_calls(matmul, a_on, b_on, repeats)})
        for row in size_rows:
            row["size"] = n
            row["gflops"] = 2 * n**3 / row["median_s"] / 1e9
            row["speedup_vs_reference"] = reference["median_s"] / row["median_s"]
        rows.extend(size_rows)
    return {
        "dtype": "float32",
        "devices": [str(d) for d in jax.devices()],
        "jax_version": jax.__version__,
        "repeats": repeats,
        "rows": rows,
    }
