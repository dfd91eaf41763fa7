"""The output CSV, written row by row and resumable: run again with the same file and it carries on."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Self

from .pipeline import Outcome

HEADER = ("id", "label", "score", "error")


class ResultWriter:
    """Appends one line per outcome and flushes it, so a crash loses at most the line being written.

    On opening an existing file it drops a last line cut short by a crash (no newline), and
    ``done`` holds the ids already there: the pipeline skips them.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.done: set[str] = set()
        if self.path.exists():
            drop_partial_last_line(self.path)
            with self.path.open(newline="") as existing:
                self.done = {row["id"] for row in csv.DictReader(existing)}
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", newline="")
        self._csv = csv.writer(self._file)
        if new:
            self._csv.writerow(HEADER)
            self._file.flush()

    def write(self, outcome: Outcome) -> None:
        score = "" if outcome.score is None else f"{outcome.score:.6f}"
        error = " ".join(outcome.error.splitlines())  # csv.writer would quote a newline into the row: one line each
        self._csv.writerow((outcome.id, outcome.label, score, error))
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def drop_partial_last_line(path: Path) -> None:
    """Truncate ``path`` after its last newline (a line without one was cut by a crash)."""
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return
        file.seek(max(0, size - 65536))
        tail = file.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        file.truncate(size - len(tail) + cut + 1 if cut >= 0 else 0)
