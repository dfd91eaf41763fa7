"""Batch inference on Ray Data: score every row of a CSV with a pool of model actors.

The job d6 does over HTTP (read rows, score them, write each result once) as one Ray Data
pipeline: ``read_csv`` streams blocks of rows, ``map_batches`` hands each batch of ``batch_size``
rows to one of ``actors`` model actors (each loads the model once, in its constructor), and
``write_csv`` writes the results. Ray Data streams: blocks flow through with bounded memory, and
a slow stage makes the reader wait, as d6's bounded queues do. No HTTP, no JSON, no 429: the
model runs inside the pipeline's own processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from mlcourse.distributed.model import MODEL_ERROR, ModelSpec, predict_each_alone

BATCH_SIZE = 64  # rows per model call: bigger than the service's 16, since nobody waits on a single row


class Scorer:
    """One model actor: ``__call__`` maps a batch of rows to their labels, scores and errors."""

    def __init__(self, spec: ModelSpec, text_column: str) -> None:
        self.predict_batch = spec.load()
        self.text_column = text_column

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch[self.text_column]]
        answers = predict_each_alone(self.predict_batch, texts)
        return {
            "id": batch["id"],
            "label": np.array([answer.get("label", "") for answer in answers], dtype=object),
            "score": np.array([answer.get("score", np.nan) for answer in answers], dtype=float),
            "error": np.array([answer.get(MODEL_ERROR, "") for answer in answers], dtype=object),
        }


@dataclass(frozen=True)
class JobResult:
    rows: int
    seconds: float
    out_dir: Path

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def score_csv(
    csv_path: Path,
    out_dir: Path,
    spec: ModelSpec = ModelSpec(),
    *,
    actors: int = 2,
    batch_size: int = BATCH_SIZE,
    text_column: str = "text",
    cpus_per_actor: float = 1.0,
) -> JobResult:
    """Score every row of ``csv_path`` into CSV files under ``out_dir``; time the whole job (model loads included)."""
    import ray.data

    started = time.perf_counter()
    rows = ray.data.read_csv(str(csv_path)).map_batches(
        Scorer,
        fn_constructor_args=(spec, text_column),
        batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
        batch_format="numpy",
    )
    rows.write_csv(str(out_dir))
    seconds = time.perf_counter() - started
    return JobResult(read_results(out_dir).height, seconds, out_dir)


def read_results(out_dir: Path) -> pl.DataFrame:
    """Every result row the job wrote (ids as strings, as they were read)."""
    return pl.concat([pl.read_csv(path, infer_schema=False) for path in sorted(out_dir.glob("*.csv"))])
