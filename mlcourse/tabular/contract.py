"""The contract of the tabular drill (d3): typed errors, the records prep and training fill, and
the deterministic writer of prepared output.

The learner writes the prep and the training; this module only fixes what they hand over, so the
command line (`mlcourse.drill_commands.d3_tabular_mlp`), the checks and notebook 02 all read the same shapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

#: Cell texts that mean "no value" in the CSVs this course reads (R writes "NA", pandas "NaN" or "").
NULL_TOKENS: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "null", "NULL")

#: When a column is an identifier: one wording for the README, the prep's docstrings and the check's message.
IDENTIFIER_RULE = (
    "a column is an identifier, not a feature, when its name is `id` or ends in `_id` (any case), or when it "
    "holds whole numbers or text with a different value in every row; the prep drops it and reports it"
)

#: The name half of `IDENTIFIER_RULE`: `id`, `row_id`, `Sample_ID`, not `valid` or `lipid`.
ID_NAME = re.compile(r"(?:^|_)id$", re.IGNORECASE)

#: Names of the files :func:`write_prepared` writes, in the order it writes them.
PREPARED_FILES: tuple[str, ...] = ("stats.json", "train.csv", "val.csv")


class TabularDataError(ValueError):
    """The input cannot be prepared; the message says what is wrong and how to fix it."""


class NotCSVError(TabularDataError):
    """The file is not a CSV table (wrong extension, binary content, no header or no rows)."""


class MissingTargetError(TabularDataError):
    """The named target column is not in the CSV header."""


@dataclass(frozen=True)
class PrepStats:
    """What the prep learned. `numeric` and `categorical` come from the training split only;
    `classes` is the task's label set (every non-null target value), not a feature statistic;
    `identifiers` are the columns left out under `IDENTIFIER_RULE`, decided on the whole table like a dtype.

    Feature order is fixed: numeric columns in header order, then for each categorical column
    (header order) one 0/1 column per level. A null or a level not seen in training is all zeros.
    """

    target: str
    classes: tuple[str, ...]  # target values as text, sorted; a class id is its index here
    numeric: dict[str, tuple[float, float]]  # column -> (mean, sd) of the training rows
    categorical: dict[str, tuple[str, ...]]  # column -> levels seen in the training rows, sorted
    identifiers: tuple[str, ...] = ()  # columns dropped as identifiers, in header order; never features

    @property
    def feature_names(self) -> tuple[str, ...]:
        one_hot = (f"{column}={level}" for column, levels in self.categorical.items() for level in levels)
        return (*self.numeric, *one_hot)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class NullReport:
    """What the prep did about missing values, so nothing disappears without saying so."""

    n_rows: int  # data rows in the CSV
    n_dropped_rows: int  # rows left out because their target is null (nothing to learn from)
    n_rows_with_nulls: int  # rows kept although a feature is null (the null was imputed)
    null_counts: dict[str, int]  # column -> null cells in the CSV, for every column with any


@dataclass(eq=False)
class Prepared:
    """Model-ready arrays plus where every row came from."""

    stats: PrepStats
    x_train: np.ndarray  # float32, (n_train, n_features)
    y_train: np.ndarray  # int32 class ids, (n_train,)
    x_val: np.ndarray
    y_val: np.ndarray
    train_rows: np.ndarray  # 0-based data-row positions in the CSV, in the order of x_train
    val_rows: np.ndarray
    nulls: NullReport


@dataclass(eq=False)
class TrainResult:
    """What training hands back: the measured figures, the per-epoch history and the model."""

    val_accuracy: float
    train_seconds: float  # wall time of the whole training, compilation included
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: loss, accuracy, val_loss, val_accuracy
    model: Any = None


def prepared_frame(x: np.ndarray, y: np.ndarray, rows: np.ndarray, stats: PrepStats) -> pl.DataFrame:
    """One split as a table: the source row, the features by name, the class id."""
    columns = {"row": np.asarray(rows, dtype=np.int64)}
    columns |= {name: np.asarray(x[:, i], dtype=np.float32) for i, name in enumerate(stats.feature_names)}
    columns[stats.target] = np.asarray(y, dtype=np.int32)
    return pl.DataFrame(columns)


def write_prepared(prepared: Prepared, out_dir: Path) -> list[Path]:
    """Write the fitted statistics and both splits; the same `Prepared` always gives the same bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats_path, train_path, val_path = (out_dir / name for name in PREPARED_FILES)
    stats_path.write_text(prepared.stats.to_json())
    for path, x, y, rows in (
        (train_path, prepared.x_train, prepared.y_train, prepared.train_rows),
        (val_path, prepared.x_val, prepared.y_val, prepared.val_rows),
    ):
        prepared_frame(x, y, rows, prepared.stats).write_csv(path, float_precision=6)
    return [stats_path, train_path, val_path]


def summary(prepared: Prepared, result: TrainResult | None = None) -> dict[str, Any]:
    """The command line's JSON line: the columns used and dropped, split sizes, null handling and, after
    training, the metrics."""
    out: dict[str, Any] = {
        "target": prepared.stats.target,
        "classes": list(prepared.stats.classes),
        "n_features": len(prepared.stats.feature_names),
        "dropped_identifiers": list(prepared.stats.identifiers),
        "n_train": len(prepared.y_train),
        "n_val": len(prepared.y_val),
        **asdict(prepared.nulls),
    }
    if result is not None:
        out |= {
            "val_accuracy": round(float(result.val_accuracy), 4),
            "train_seconds": round(float(result.train_seconds), 3),
            "epochs": len(result.history),
        }
    return out
