"""Count XLA compilations, to prove that serving never compiles.

JAX reports every backend compilation as a monitoring event; :func:`counting_compilations`
listens for it while its block runs. Compiling ahead of time and calling the ``Compiled``
objects directly means a request with an unexpected shape fails instead of silently compiling.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import jax

BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class CompilationCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, event: str, duration_secs: float, **_: object) -> None:
        if event == BACKEND_COMPILE_EVENT:
            self.count += 1
            self.seconds += duration_secs


@contextmanager
def counting_compilations() -> Iterator[CompilationCounter]:
    """``with counting_compilations() as compiled: ...`` then ``compiled.count`` XLA compilations happened."""
    counter = CompilationCounter()
    jax.monitoring.register_event_duration_secs_listener(counter)
    try:
        yield counter
    finally:
        jax.monitoring.unregister_event_duration_listener(counter)
