"""Two ways to multiply matrices: compiled by XLA, and a plain reference that never calls BLAS."""

import jax
import numpy as np


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` traced once per input shape and dtype, then run as one compiled XLA kernel.

    The goal: the product, computed by XLA from a function compiled once per shape, returned as a JAX array.
    """
    raise NotImplementedError(
        "d2: matmul(a, b) must return a @ b as a JAX array, from a function compiled with jax.jit. "
        "Taught in notebook 01, section 2; stuck: README.md, Hints."
    )


def reference_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in NumPy without BLAS: the slow, portable baseline (Nx's BinaryBackend).

    The goal: the same product as a NumPy array, from plain loops that never reach a BLAS library, so
    it is far slower than ``a @ b`` even when BLAS runs on one thread.
    """
    raise NotImplementedError(
        "d2: reference_matmul(a, b) must return a @ b as a NumPy array without calling BLAS (plain loops, the "
        "counterpart of Nx's BinaryBackend). Taught in notebook 01, section 6; stuck: README.md, Hints."
    )
