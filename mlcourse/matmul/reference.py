"""The course's own non-BLAS matrix product: the fixed yardstick d2's speed-up check times against.

The learner writes a reference too, but a check that divided by the learner's reference could be
passed with a deliberately slow one; this one is the same for everyone.
"""

from __future__ import annotations

import numpy as np


def course_reference_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with ``np.einsum(..., optimize=False)``: a C loop that never calls BLAS (Nx's BinaryBackend)."""
    return np.einsum("ik,kj->ij", a, b, optimize=False)
