"""Polars prep: read any CSV, leave out its identifier columns, split it with a seed, fit the statistics
on the training rows only, and turn both splits into model-ready arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from mlcourse.tabular.contract import (
    ID_NAME,
    NULL_TOKENS,
    MissingTargetError,
    NotCSVError,
    NullReport,
    Prepared,
    PrepStats,
    TabularDataError,
)


def read_table(path: Path, target: str) -> pl.DataFrame:
    """Read `path` as a CSV with a header; raise `NotCSVError` / `MissingTargetError` on bad input.

    Treat every text in `NULL_TOKENS` as null ("NA" in penguins.csv) and infer dtypes from the
    whole file. Raise `NotCSVError` (with the file name in the message) for a file that does not
    end in .csv, has binary content, cannot be parsed, or has no data rows or fewer than two
    columns; raise `MissingTargetError` naming the column when `target` is not in the header.
    """
    raise NotImplementedError(
        "d3: read_table must return the CSV as a Polars table, with NotCSVError / MissingTargetError for bad input. "
        "Taught in notebook 02, section 1; stuck: README.md, Hints."
    )


def identifier_columns(table: pl.DataFrame, target: str) -> tuple[str, ...]:
    """Return the names of the identifier columns of `table`, in header order (never `target`).

    The rule (`IDENTIFIER_RULE` in mlcourse/tabular/contract.py; notebook 02, section 1 says why): a column
    is an identifier, not a feature, when its name is `id` or ends in `_id` (any case), or when it holds whole
    numbers or text with a different value in every row; the prep drops it and reports it. `ID_NAME` matches
    the names.
    """
    raise NotImplementedError(
        "d3: identifier_columns must name every column IDENTIFIER_RULE calls an identifier, in header order. "
        "Taught in notebook 02, section 1; stuck: README.md, Hints."
    )


def split_rows(n_rows: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (train positions, validation positions) for rows 0..n_rows-1.

    The split depends only on `n_rows`, `val_fraction` and `seed`: the positions in a shuffled order
    that the seed fixes, `round(n_rows * val_fraction)` of them held out.
    """
    raise NotImplementedError(
        "d3: split_rows must return train and validation positions that depend only on n_rows, val_fraction and "
        "seed. Taught in notebook 02, section 3; stuck: README.md, Hints."
    )


def fit_stats(train: pl.DataFrame, target: str, classes: tuple[str, ...], identifiers: tuple[str, ...]) -> PrepStats:
    """Learn what the prep needs from the TRAINING rows only, and return it as a `PrepStats`.

    The feature columns are all but the target and the `identifiers`. Numeric columns (Polars numeric dtypes):
    mean and sample sd, nulls ignored (sd 1.0 when it is 0 or undefined, mean 0.0 for an all-null column).
    Every other feature column is categorical: its non-null values as text, sorted. `classes` and
    `identifiers` are passed in unchanged.
    """
    raise NotImplementedError(
        "d3: fit_stats must learn the numeric mean and sd and the categorical levels from the training rows only. "
        "Taught in notebook 02, sections 4 and 5; stuck: README.md, Hints."
    )


def transform(frame: pl.DataFrame, stats: PrepStats) -> tuple[np.ndarray, np.ndarray]:
    """Turn rows into (x float32 of shape (rows, len(stats.feature_names)), y int32 class ids).

    Numeric: z-score `(value - mean) / sd` with the fitted statistics, a null becomes 0.0 (the
    training mean). Categorical: one 0/1 column per fitted level, in `stats.feature_names` order;
    a null or unseen level is all zeros. y is the index of the row's target text in `stats.classes`.
    """
    raise NotImplementedError(
        "d3: transform must turn rows into z-scored numbers, one 0/1 column per level and class ids, with the "
        "fitted statistics. Taught in notebook 02, sections 4 and 5; stuck: README.md, Hints."
    )


def null_report(table: pl.DataFrame, target: str) -> NullReport:
    """Say what happens to missing values: the CSV's rows, the rows dropped because the target
    is null, the rows kept although a feature is null, and the null count of every column with any."""
    raise NotImplementedError(
        "d3: null_report must count the CSV's rows, the rows dropped (null target), the rows kept with an imputed "
        "feature and the nulls per column. Taught in notebook 02, section 2; stuck: README.md, Hints."
    )


def prepare(path: Path, target: str, *, val_fraction: float = 0.2, seed: int = 0) -> Prepared:
    """CSV in, `Prepared` out; the same file, fraction and seed always give the same arrays.

    Only rows whose target is null are dropped; the statistics come from the training split alone and
    leave the identifier columns out; both splits are transformed with them. `train_rows` / `val_rows`
    are the rows' 0-based positions among the CSV's data rows.
    """
    raise NotImplementedError(
        "d3: prepare must turn the CSV into a Prepared whose training split alone fitted the prep, without the "
        "identifier columns. Taught in notebook 02, sections 1 to 5; stuck: README.md, Hints."
    )
