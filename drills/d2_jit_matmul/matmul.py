"""Two ways to multiply matrices: compiled by XLA, and a plain reference that never calls BLAS."""

import jax
import numpy as np


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` traced once per input shape and dtype, then run as one compiled XLA kernel.

    Make this function jit-compiled (``jax.jit``) and return a JAX array.
    """
    raise NotImplementedError("d2: write matmul(a, b) with jax.numpy and compile it with jax.jit")


def reference_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in NumPy without BLAS: the slow, portable baseline (Nx's BinaryBackend).

    Use ``np.einsum(..., optimize=False)``: it loops in C without calling a BLAS library.
    """
    raise NotImplementedError("d2: write reference_matmul(a, b) with np.einsum(..., optimize=False)")
