"""Timed drills run alone: a learner's benchmark must not share the cores with another learner's run.

With ``-j 2`` two learners walk the drills in step, so without this their d1 benchmarks would
measure each other (an honest learner then fails a p99 that ``make grade`` passes). A drill with a
``@pytest.mark.benchmark`` check takes the lock exclusively; the others share it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCHMARK_MARK = "@pytest.mark.benchmark"


def timed_drills(course_root: Path, drills: list[str]) -> set[str]:
    """The drills whose checks include a benchmark, read from the course's own check files."""
    return {
        drill
        for drill in drills
        if any(BENCHMARK_MARK in path.read_text() for path in (course_root / "drills" / drill).glob("test_*.py"))
    }


class TimingLock:
    """Many untimed drill runs at once, or one timed run and nothing else."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[float]:
        """Wait for the lock; yield the seconds spent waiting (not the learner's time)."""
        start = time.monotonic()
        with self._free:
            self._free.wait_for(lambda: not self._exclusive and (not exclusive or self._shared == 0))
            if exclusive:
                self._exclusive = True
            else:
                self._shared += 1
        try:
            yield time.monotonic() - start
        finally:
            with self._free:
                if exclusive:
                    self._exclusive = False
                else:
                    self._shared -= 1
                self._free.notify_all()
