"""Stages joined by bounded queues: read rows lazily, score them through the API, write each result.

    read_rows ──▶ rows queue (queue_rows) ──▶ concurrency × score ──▶ results queue (queue_rows) ──▶ write

A full queue makes its producer wait: when the model is slow the scorers wait, the rows queue
fills, and the reader stops pulling rows from the file. That is GenStage's demand, in asyncio.
At most ``2 * queue_rows + concurrency + 2`` rows are read and not yet written, whatever the size
of the file. ``queue_rows=0`` removes the bound (asyncio's unbounded queue): the reader then
races through the whole file, which is what the benchmark measures it against.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from mlcourse.pipeline.errors import SentimentClientError

Row = tuple[str, str]  # (id, text)


class MissingColumn(ValueError):
    """The input CSV lacks a column the pipeline was told to read."""


@dataclass(frozen=True)
class Outcome:
    """One output row: a prediction, or the reason there is none."""

    id: str
    label: str = ""
    score: float | None = None
    error: str = ""


@dataclass
class Counts:
    rows_in: int = 0  # read from the input, skipped ones included
    rows_skipped: int = 0  # already in the output (resumed)
    rows_ok: int = 0
    rows_failed: int = 0


def read_rows(path: Path, *, id_column: str = "id", text_column: str = "text", batch_rows: int = 1000) -> Iterator[Row]:
    """(id, text) pairs from a CSV, ``batch_rows`` at a time from a lazy scan: the file is never loaded whole."""
    raise NotImplementedError(
        "d6: read_rows must yield (id, text) pairs from a lazy scan, batch_rows at a time, ids as written, and raise "
        "MissingColumn naming a missing column. Taught in notebook 08, sections 1 and 6; stuck: README.md, Hints."
    )


async def score_rows(
    rows: Iterable[Row],
    client,
    write: Callable[[Outcome], None],
    *,
    concurrency: int = 8,
    queue_rows: int = 64,
    skip: set[str] | frozenset[str] = frozenset(),
    on_row: Callable[[], object] = lambda: None,
) -> Counts:
    """Score every row through ``client.classify``; ``write`` each outcome as it comes. Returns the counts.

    ``skip`` holds ids already written (a resumed run); ``on_row`` is called once per input row
    (a progress bar): after its outcome is written, or when the reader skips it because its id is in
    ``skip``; never when a row is only read. ``queue_rows=0`` means unbounded queues. A failed text
    is an outcome with its reason, never a lost row; a ``ConfigurationError`` (the URL is not the
    API's) is no text's failure: it stops every stage. It ends when its input ends (one end marker
    per scorer; the writer stops once every scorer has finished), and a stage that raises stops the
    others and the error comes out (an ``asyncio.TaskGroup``: notebook 08, section 5).
    """
    raise NotImplementedError(
        "d6: score_rows must score every row once with at most `concurrency` in flight and a bounded read-ahead, end "
        "when its input ends, and stop every stage when one raises (README.md, The pipeline). Taught in notebook 08, "
        "sections 2 and 5; stuck: README.md, Hints."
    )


async def score_one(client, row_id: str, text: str) -> Outcome:
    raise NotImplementedError(
        "d6: score_one must return the row's Outcome: its prediction, or the reason a text failed; any other error "
        "goes on up. Taught in notebook 08, section 5; stuck: README.md, Hints."
    )
