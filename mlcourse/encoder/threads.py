"""How many cores XLA may use on CPU: its CPU client sizes its thread pool once, when the first JAX backend starts.

PyTorch has ``torch.set_num_threads`` at any time; XLA has its start-up environment only. Its CPU
client sizes the pool that runs a program's operations from ``NPROC`` where that is set (else from
the cores the process may run on), so a process that wants fewer threads for the model must set it
before anything touches a JAX array. The often-quoted ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1`` does not cap that pool: measured on 2 cores, a process with those
flags still kept both busy while it ran a batch (CPU time well above wall time), with ``NPROC=1`` one.

The rule the server follows (``mlcourse.api.models.model_loader``): torch gets half the cores, XLA
every core. Served under drill d1 at 100 req/s on 2 cores, XLA held to one thread answered far
slower at p99 than with both, while torch's spinning threads are the reason torch gets half
(``default_threads``). ``python -m mlcourse.encoder bench`` serves JAX both ways in one run and
prints the p99 of each, so the rule can be checked on any machine.
"""

from __future__ import annotations

import os
import sys
import warnings

POOL_SIZE_VARIABLE = "NPROC"  # read by XLA's CPU client (DefaultThreadPoolSize) when the backend starts


def limit_xla_threads(num_threads: int | None) -> None:
    """Ask XLA for ``num_threads`` intra-op threads (None: leave its default, every core the process may use)."""
    if num_threads is None:
        return
    if num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads}")
    if "jax" in sys.modules:
        warnings.warn("JAX is already imported: XLA may have started and ignore the thread setting", stacklevel=2)
    os.environ[POOL_SIZE_VARIABLE] = str(num_threads)
