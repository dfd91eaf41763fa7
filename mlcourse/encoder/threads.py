"""How many cores XLA may use on CPU: its flags are read once, when the first JAX backend starts.

PyTorch has ``torch.set_num_threads`` at any time; XLA has ``XLA_FLAGS`` before start-up only. A
server that leaves one core to its event loop (as drill d1's does with torch) must therefore set
them before anything touches a JAX array.
"""

from __future__ import annotations

import os
import sys
import warnings


def xla_thread_flags(num_threads: int) -> str:
    multi = "true" if num_threads > 1 else "false"
    return f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={num_threads}"


def limit_xla_threads(num_threads: int | None) -> None:
    """Ask XLA for ``num_threads`` intra-op threads (None: leave its default, every core)."""
    if num_threads is None:
        return
    if num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads}")
    if "jax" in sys.modules:
        warnings.warn("JAX is already imported: XLA may have started and ignore the thread setting", stacklevel=2)
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {xla_thread_flags(num_threads)}".strip()
