"""A DistilBERT-base-size compute stand-in: random weights, the phase model's exact shapes.

The phase serves ``distilbert-base-uncased-finetuned-sst-2-english``; the hub is unreachable here,
so its cost is measured on a randomly initialised model of the same architecture and size
(66 M parameters). Its labels mean nothing: it is a stand-in for compute, and labelled as such.
"""

from __future__ import annotations

import os
from pathlib import Path

STANDIN_LABELS = {0: "NEGATIVE", 1: "POSITIVE"}  # as the SST-2 checkpoint names them


def make_distilbert_standin(
    folder: str | os.PathLike[str], *, seed: int = 0, tokenizer_from: str | os.PathLike[str] | None = None
) -> Path:
    """Save a random DistilBERT-base classifier with ``save_pretrained`` (config.json + model.safetensors).

    The tokenizer is the default model's (uncased BERT WordPiece, 30,522 tokens: DistilBERT's own vocabulary).
    """
    import torch
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertForSequenceClassification

    from mlcourse.sentiment.loading import resolve_source

    folder = Path(folder)
    torch.manual_seed(seed)
    config = DistilBertConfig(id2label=STANDIN_LABELS, label2id={v: k for k, v in STANDIN_LABELS.items()})
    DistilBertForSequenceClassification(config).eval().save_pretrained(folder)
    AutoTokenizer.from_pretrained(resolve_source(tokenizer_from), local_files_only=True).save_pretrained(folder)
    (folder / "STANDIN.md").write_text("Random weights: a DistilBERT-base-size compute stand-in, not a classifier.\n")
    return folder
