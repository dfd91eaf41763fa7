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

_ROW = "__row__"  # position of each data row in the CSV, carried through the split


def read_table(path: Path, target: str) -> pl.DataFrame:
    """Read `path` as a CSV with a header; raise `NotCSVError` / `MissingTargetError` on bad input."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise NotCSVError(f"{path.name}: expected a .csv file, got {path.suffix or 'no extension'!r}")
    with path.open("rb") as head:
        binary = b"\0" in head.read(65536)
    if binary:
        raise NotCSVError(f"{path.name}: binary content, not a CSV text file")
    try:
        table = pl.read_csv(path, null_values=list(NULL_TOKENS), infer_schema_length=None)
    except pl.exceptions.PolarsError as error:
        raise NotCSVError(f"{path.name}: not a readable CSV ({error})") from error
    if table.height == 0 or table.width < 2:
        raise NotCSVError(f"{path.name}: a CSV needs a header, a target and a feature column, and data rows")
    if target not in table.columns:
        raise MissingTargetError(f"{path.name}: no target column {target!r}; columns are {', '.join(table.columns)}")
    return table


def identifier_columns(table: pl.DataFrame, target: str) -> tuple[str, ...]:
    """The columns `IDENTIFIER_RULE` leaves out, in header order: a key says nothing about a new row, and in a
    file sorted by class it fakes a perfect score."""

    def is_identifier(name: str) -> bool:
        dtype = table.schema[name]
        distinct = (dtype.is_integer() or dtype == pl.String) and table.get_column(name).n_unique() == table.height
        return bool(ID_NAME.search(name)) or distinct

    return tuple(name for name in table.columns if name != target and is_identifier(name))


def split_rows(n_rows: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle positions 0..n_rows-1 with `seed`; the first `val_fraction` of them is validation."""
    if not 0.0 < val_fraction < 1.0:
        raise TabularDataError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    order = np.random.default_rng(seed).permutation(n_rows)
    n_val = max(1, round(n_rows * val_fraction))
    if n_val >= n_rows:
        raise TabularDataError(f"{n_rows} usable rows are too few to hold out {val_fraction:.0%} for validation")
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def fit_stats(train: pl.DataFrame, target: str, classes: tuple[str, ...], identifiers: tuple[str, ...]) -> PrepStats:
    """Learn numeric mean/sd and categorical levels from the training rows alone; identifiers are no features."""
    features = [name for name in train.columns if name not in (target, _ROW, *identifiers)]
    numeric = [name for name in features if train.schema[name].is_numeric()]
    moments = (
        train.select(
            *(pl.col(name).cast(pl.Float64).mean().alias(f"{name}:mean") for name in numeric),
            *(pl.col(name).cast(pl.Float64).std().alias(f"{name}:sd") for name in numeric),
        ).row(0, named=True)
        if numeric
        else {}
    )

    def mean_sd(name: str) -> tuple[float, float]:
        mean, sd = moments[f"{name}:mean"], moments[f"{name}:sd"]
        return (float(mean) if mean is not None else 0.0, float(sd) if sd else 1.0)

    def levels(name: str) -> tuple[str, ...]:
        return tuple(sorted(train.get_column(name).cast(pl.String).drop_nulls().unique().to_list()))

    return PrepStats(
        target=target,
        classes=classes,
        numeric={name: mean_sd(name) for name in numeric},
        categorical={name: levels(name) for name in features if name not in numeric},
        identifiers=identifiers,
    )


def transform(frame: pl.DataFrame, stats: PrepStats) -> tuple[np.ndarray, np.ndarray]:
    """z-score numeric columns (null -> 0, the training mean), one-hot categoricals, label the target."""
    numeric = [
        ((pl.col(name).cast(pl.Float64) - mean) / sd).fill_null(0.0).alias(name)
        for name, (mean, sd) in stats.numeric.items()
    ]
    one_hot = [
        (pl.col(name).cast(pl.String) == level).fill_null(False).cast(pl.Float64).alias(f"{name}={level}")
        for name, levels in stats.categorical.items()
        for level in levels
    ]
    if not numeric and not one_hot:
        raise TabularDataError("no feature left to learn from: every feature column is empty in the training split")
    x = frame.select(*numeric, *one_hot).to_numpy().astype(np.float32)
    class_ids = pl.DataFrame(
        {"label": stats.classes, "id": range(len(stats.classes))}, schema_overrides={"id": pl.Int32}
    )
    y = frame.select(pl.col(stats.target).cast(pl.String).alias("label")).join(
        class_ids, on="label", how="left", maintain_order="left"
    )
    return x, y.get_column("id").to_numpy()


def null_report(table: pl.DataFrame, target: str) -> NullReport:
    """Count nulls per column, rows dropped (null target) and rows kept with an imputed feature."""
    counts = {name: count for name, count in table.null_count().row(0, named=True).items() if count}
    features = [name for name in table.columns if name != target]
    has_null = pl.any_horizontal(pl.col(name).is_null() for name in features)
    kept = table.filter(pl.col(target).is_not_null())
    return NullReport(
        n_rows=table.height,
        n_dropped_rows=table.height - kept.height,
        n_rows_with_nulls=kept.filter(has_null).height,
        null_counts=counts,
    )


def prepare(path: Path, target: str, *, val_fraction: float = 0.2, seed: int = 0) -> Prepared:
    """CSV in, `Prepared` out: the same file, fraction and seed always give the same arrays."""
    table = read_table(path, target)
    identifiers = identifier_columns(table, target)
    nulls = null_report(table, target)
    usable = table.with_row_index(_ROW).filter(pl.col(target).is_not_null())
    train_idx, val_idx = split_rows(usable.height, val_fraction, seed)
    train, val = usable[train_idx], usable[val_idx]
    classes = tuple(sorted(usable.get_column(target).cast(pl.String).unique().to_list()))
    stats = fit_stats(train, target, classes, identifiers)
    x_train, y_train = transform(train, stats)
    x_val, y_val = transform(val, stats)
    return Prepared(
        stats=stats,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        train_rows=train.get_column(_ROW).to_numpy().astype(np.int64),
        val_rows=val.get_column(_ROW).to_numpy().astype(np.int64),
        nulls=nulls,
    )
