"""Sentiment CSVs of any size (``id,text``), written in chunks so that writing one never needs the memory it tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

WORDS = (
    "I love this",
    "what a great day",
    "this is awful",
    "not good at all",
    "best purchase ever",
    "it broke after a week",
    "happy with the service",
    "the delivery was late",
)


def write_sentiment_csv(path: Path, rows: int, *, chunk_rows: int = 100_000) -> Path:
    """``rows`` rows with ids ``row-0``...; texts vary (a phrase and the row number) so every answer differs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as file:
        for start in range(0, rows, chunk_rows):
            index = pl.int_range(start, min(rows, start + chunk_rows), eager=True)
            chunk = pl.DataFrame(
                {
                    "id": "row-" + index.cast(pl.String),
                    "text": pl.Series(WORDS).gather(index % len(WORDS)) + ", item " + index.cast(pl.String),
                }
            )
            chunk.write_csv(file, include_header=start == 0)
    return path
