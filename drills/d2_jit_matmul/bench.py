"""Benchmark the compiled matmul against the non-compiled reference and NumPy's BLAS, in one run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

SIZES = (256, 512, 1024, 2048)


def time_calls(fn: Callable, a, b, repeats: int) -> dict[str, float]:
    """Time the first call on its own, then ``repeats`` steady-state calls.

    Return ``{"first_call_s", "min_s", "median_s"}`` in seconds. The first call of a jitted function
    includes tracing and compilation, so it stays out of min and median; every time covers the whole
    computation, not only the moment JAX hands the call back.
    """
    raise NotImplementedError(
        "d2: time_calls must report the first call apart from the steady-state min and median, each time "
        "covering the finished result. Taught in notebook 01, sections 2 and 8; stuck: README.md, Hints."
    )


def run_benchmark(sizes: Sequence[int] = SIZES, repeats: int = 5, reference_repeats: int = 2) -> dict:
    """Time every backend at every size on float32 square matrices; one row per (size, backend, device).

    Backends: ``reference`` (reference_matmul), ``numpy-blas`` (``a @ b``) and ``jax-jit``
    (matmul) on every device in ``jax.devices()``. Return a dict with ``dtype``, ``devices``,
    ``jax_version``, ``repeats`` and ``rows``; each row has ``size``, ``backend``, ``device``,
    ``first_call_s``, ``min_s``, ``median_s``, ``gflops`` (2 n^3 / median) and
    ``speedup_vs_reference`` (reference median / this median).
    """
    raise NotImplementedError(
        "d2: run_benchmark must time the reference, NumPy's BLAS and the jitted matmul on every device at each "
        "size and return the report dict (README.md, What you write). Taught in notebook 01, sections 5 and 6; "
        "stuck: README.md, Hints."
    )
