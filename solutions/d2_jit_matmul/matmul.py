"""Two ways to multiply matrices: compiled by XLA, and a plain reference that never calls BLAS."""

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` traced once per input shape and dtype, then run as one compiled XLA kernel."""
    return jnp.matmul(a, b)


def reference_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in NumPy without BLAS: the slow, portable baseline (Nx's BinaryBackend)."""
    return np.einsum("ik,kj->ij", a, b, optimize=False)
