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
        raise NotImplementedError(
            "open self.path for appending (header if new); put the ids already in the file in self.done; drop a last line cut short by a crash"
        )

    def write(self, outcome: Outcome) -> None:
        raise NotImplementedError(
            "one csv row (id, label, score, error), then flush: a crash must not lose written rows"
        )

    def close(self) -> None:
        raise NotImplementedError("close the file")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def drop_partial_last_line(path: Path) -> None:
    """Truncate ``path`` after its last newline (a line without one was cut by a crash)."""
    raise NotImplementedError("truncate the file after its last newline")
