"""Synthetic CSVs for the tabular lessons, generated at run time into build/ or a temp folder.

`make_big_csv` writes a multi-million-row sales log for notebook 02 (too big to commit);
`make_classification_csv` writes a small table whose column names have nothing to do with
penguins, so a prep tuned to one table fails on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from tqdm.auto import tqdm  # a widget in a notebook (ipywidgets), text in a terminal

STORES = tuple(f"store_{i:03d}" for i in range(60))
PRODUCTS = tuple(f"product_{i:04d}" for i in range(2_000))


def sales_chunk(rng: np.random.Generator, first_id: int, n_rows: int) -> pl.DataFrame:
    """`n_rows` sales: an id, a store, a product, a quantity and a unit price (some missing)."""
    price = np.round(rng.lognormal(2.5, 0.6, n_rows), 2)
    frame = pl.DataFrame(
        {
            "sale_id": np.arange(first_id, first_id + n_rows, dtype=np.int64),
            "store": np.asarray(STORES)[rng.integers(0, len(STORES), n_rows)],
            "product": np.asarray(PRODUCTS)[rng.integers(0, len(PRODUCTS), n_rows)],
            "quantity": rng.integers(1, 10, n_rows),
            "unit_price": price,
        }
    )
    missing = pl.Series(rng.random(n_rows) < 0.01)
    return frame.with_columns(pl.when(missing).then(None).otherwise(pl.col("unit_price")).alias("unit_price"))


def make_big_csv(path: Path, n_rows: int, seed: int = 0, chunk_rows: int = 250_000) -> Path:
    """Write the sales log in chunks (bounded memory); reuse it when it is already there."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as sink:
        for start in tqdm(range(0, n_rows, chunk_rows), desc=f"writing {path.name}", unit="chunk"):
            chunk = sales_chunk(rng, start, min(chunk_rows, n_rows - start))
            chunk.write_csv(sink, include_header=start == 0)
    partial.rename(path)
    return path


def make_classification_csv(
    path: Path, n_rows: int = 1_000, seed: int = 0, null_share: float = 0.02, n_null_targets: int = 3
) -> pl.DataFrame:
    """A 3-class weather table with numeric and categorical columns, nulls, and target `weather`.

    The label is a fixed function of the features, so a sound prep + MLP scores well above 85%.
    Returns the table as written (nulls included) so a check can count what the prep should see.
    """
    rng = np.random.default_rng(seed)
    temp = rng.normal(18.0, 7.0, n_rows)
    pressure = rng.normal(1013.0, 9.0, n_rows)
    humidity = rng.integers(20, 101, n_rows)
    site = np.asarray(["north", "south", "east", "west"])[rng.integers(0, 4, n_rows)]
    windy = np.asarray(["no", "yes"])[rng.integers(0, 2, n_rows)]
    z_temp, z_pressure, z_humidity = ((v - v.mean()) / v.std() for v in (temp, pressure, humidity))
    scores = np.stack(
        [
            2.0 * z_temp - 1.5 * z_humidity + z_pressure,  # sunny
            2.0 * z_humidity - z_temp + 1.5 * (site == "west"),  # rainy
            -2.0 * z_pressure + 2.0 * (windy == "yes") + 0.5 * z_humidity - 1.0,  # stormy
        ]
    )
    weather = np.asarray(["sunny", "rainy", "stormy"])[scores.argmax(axis=0)]
    frame = pl.DataFrame(
        {
            "site": site,
            "temp_c": np.round(temp, 2),
            "weather": weather,
            "pressure_hpa": np.round(pressure, 1),
            "humidity_pct": humidity,
            "windy": windy,
        }
    )
    features = [name for name in frame.columns if name != "weather"]
    frame = frame.with_columns(
        pl.when(pl.Series(rng.random(n_rows) < null_share)).then(None).otherwise(pl.col(name)).alias(name)
        for name in features
    )
    null_target = np.zeros(n_rows, dtype=bool)
    null_target[rng.choice(n_rows, n_null_targets, replace=False)] = True
    frame = frame.with_columns(pl.when(pl.Series(null_target)).then(None).otherwise(pl.col("weather")).alias("weather"))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame
