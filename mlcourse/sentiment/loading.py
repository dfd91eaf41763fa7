"""One loading path for every sentiment classifier in the course: a hub id or a local folder.

Notebooks, drills, the API, the CLI and the tests all load through
``load_classifier``. Without an argument it loads the model built offline by
``python -m mlcourse.sentiment.build``; with a hub id such as
``distilbert/distilbert-base-uncased-finetuned-sst-2-english`` it works where the
hub is reachable (or the model is in the local cache with ``HF_HUB_OFFLINE=1``).
Whatever a checkpoint calls its classes (``POSITIVE``, ``LABEL_1``, ...) is mapped
to ``positive``/``negative`` from its ``config.id2label``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcourse.sentiment import DEFAULT_MODEL_DIR

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

POSITIVE, NEGATIVE = "positive", "negative"
# Class names seen in sentiment checkpoints; LABEL_0/LABEL_1 is the unnamed binary convention (1 = positive).
_LABEL_NAMES = {
    "positive": POSITIVE,
    "pos": POSITIVE,
    "label_1": POSITIVE,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "label_0": NEGATIVE,
}


class ModelNotBuiltError(FileNotFoundError):
    """The default model was asked for but has not been built yet."""


class ModelLoadError(OSError):
    """A hub id or folder could not be loaded as a sequence classifier."""


class LabelMappingError(ValueError):
    """The checkpoint's classes are not exactly one positive and one negative label."""


@dataclass(frozen=True)
class Classifier:
    """What serving needs from a checkpoint: its tokenizer, its model (eval mode) and its class names."""

    source: str
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    labels: tuple[str, ...]  # labels[class_id] is "positive" or "negative"


def sentiment_labels(id2label: Mapping[Any, str]) -> tuple[str, ...]:
    """``("negative", "positive")``-style tuple indexed by class id, from a config's ``id2label``."""
    by_id = {int(class_id): name for class_id, name in id2label.items()}
    labels = tuple(_LABEL_NAMES.get(str(by_id.get(i, "")).lower(), "") for i in range(len(by_id)))
    if sorted(labels) != [NEGATIVE, POSITIVE]:
        raise LabelMappingError(
            f"expected a binary sentiment model with classes positive/negative (or LABEL_0/LABEL_1), "
            f"got id2label={dict(sorted(by_id.items()))}"
        )
    return labels


def resolve_source(model: str | os.PathLike[str] | None) -> str:
    """The folder or hub id to load: ``None`` means the built default model."""
    if model is not None:
        return str(model)
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        raise ModelNotBuiltError(
            f"the default sentiment model is not built at {DEFAULT_MODEL_DIR}: run "
            "`python -m mlcourse.sentiment.build` (make lab and make test do it for you)"
        )
    return str(DEFAULT_MODEL_DIR)


def load_classifier(model: str | os.PathLike[str] | None = None) -> Classifier:
    """Load tokenizer and sequence-classification model from a local folder or a hub id (None: the built default)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_source(model)
    local = Path(source).is_dir()
    if local and not (Path(source) / "config.json").is_file():
        raise ModelLoadError(f"folder {source!r} has no config.json: not a checkpoint saved with save_pretrained")
    try:
        with _no_progress_bars():
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            network_model = AutoModelForSequenceClassification.from_pretrained(source, local_files_only=local)
    except (OSError, ValueError) as err:  # missing files, no network, malformed checkpoint
        where = (
            f"folder {source!r}"
            if local
            else f"{source!r}: not a local folder, and the Hugging Face hub is unreachable or offline "
            f"(HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '0')}) with no cached copy"
        )
        raise ModelLoadError(f"could not load a sentiment classifier from {where}: {err}") from err
    network_model.eval()
    return Classifier(source, tokenizer, network_model, sentiment_labels(network_model.config.id2label))


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Loading inside a server or a notebook should not draw progress bars."""
    from transformers.utils import logging

    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            logging.enable_progress_bar()
