"""Benchmark the compiled matmul against the non-compiled reference and NumPy's BLAS, in one run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

SIZES = (256, 512, 1024, 2048)


def time_calls(fn: Callable, a, b, repeats: int) -> dict[str, float]:
    """Time the first call on its own, then ``repeats`` steady-state calls.

    Return ``{"first_call_s", "min_s", "median_s"}`` in seconds. The first call of a jitted
    function includes tracing and compilation: keep it out of min and median. JAX returns
    before the computation finishes: wait for each result (``jax.block_until_ready``).
    """
    raise NotImplementedError("d2: time the first call apart from the steady-state calls, waiting for results")


def run_benchmark(sizes: Sequence[int] = SIZES, repeats: int = 5, reference_repeats: int = 2) -> dict:
    """Time every backend at every size on float32 square matrices; one row per (size, backend, device).

    Backends: ``reference`` (reference_matmul), ``numpy-blas`` (``a @ b``) and ``jax-jit``
    (matmul) on every device in ``jax.devices()``. Return a dict with ``dtype``, ``devices``,
    ``jax_version``, ``repeats`` and ``rows``; each row has ``size``, ``backend``, ``device``,
    ``first_call_s``, ``min_s``, ``median_s``, ``gflops`` (2 n^3 / median) and
    ``speedup_vs_reference`` (reference median / this median).
    """
    raise NotImplementedError("d2: time the three backends at each size and return the report dict")
