"""What the encoder needs from ``config.json``: sizes, activation, and which of the two known architectures it is.

BERT and DistilBERT are the same post-LayerNorm transformer encoder under different names; the
differences that matter for the forward pass (token types, the pooler's activation, the
LayerNorm epsilon) are fields here, so one set of modules runs both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The head class names ``save_pretrained`` writes into ``architectures``, by family.
KNOWN_ARCHITECTURES = {
    "BertForSequenceClassification": "bert",
    "DistilBertForSequenceClassification": "distilbert",
}
CHECKPOINT_FILES = ("config.json", "model.safetensors")


class EncoderLoadError(OSError):
    """A folder or hub id could not be read as a checkpoint (missing files, hub unreachable)."""


class UnknownArchitectureError(ValueError):
    """The checkpoint is of an architecture this port does not implement."""


@dataclass(frozen=True)
class EncoderConfig:
    family: str  # "bert" or "distilbert"
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int  # 0: the family takes no token types (DistilBERT)
    layer_norm_eps: float
    activation: str  # the feed-forward activation, as transformers names it ("gelu", "relu", ...)
    pooler_activation: str  # "tanh" (BERT's pooler) or "relu" (DistilBERT's pre-classifier)
    num_labels: int
    id2label: dict[int, str]

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EncoderConfig:
        family = detect_family(raw)
        id2label = {int(k): v for k, v in raw.get("id2label", {0: "LABEL_0", 1: "LABEL_1"}).items()}
        if family == "bert":
            return cls(
                family,
                raw["vocab_size"],
                raw["hidden_size"],
                raw["num_hidden_layers"],
                raw["num_attention_heads"],
                raw["intermediate_size"],
                raw["max_position_embeddings"],
                raw.get("type_vocab_size", 2),
                raw.get("layer_norm_eps", 1e-12),
                raw.get("hidden_act", "gelu"),
                "tanh",
                len(id2label),
                id2label,
            )
        return cls(
            family,
            raw["vocab_size"],
            raw["dim"],
            raw["n_layers"],
            raw["n_heads"],
            raw["hidden_dim"],
            raw["max_position_embeddings"],
            0,
            1e-12,
            raw.get("activation", "gelu"),
            "relu",
            len(id2label),
            id2label,
        )

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str]) -> EncoderConfig:
        return cls.from_dict(json.loads((Path(folder) / "config.json").read_text()))


def detect_family(raw: dict[str, Any]) -> str:
    """``"bert"`` or ``"distilbert"`` from ``architectures`` (or ``model_type``); anything else is refused."""
    architectures = raw.get("architectures") or []
    for name in architectures:
        if name in KNOWN_ARCHITECTURES:
            return KNOWN_ARCHITECTURES[name]
    if not architectures and raw.get("model_type") in KNOWN_ARCHITECTURES.values():
        return raw["model_type"]
    raise UnknownArchitectureError(
        f"this Flax NNX port runs {', '.join(KNOWN_ARCHITECTURES)}; the checkpoint says "
        f"architectures={architectures}, model_type={raw.get('model_type')!r}"
    )


def checkpoint_folder(model: str | os.PathLike[str]) -> Path:
    """A local folder with ``config.json`` and ``model.safetensors``; a hub id is downloaded (where reachable)."""
    folder = Path(model)
    if not folder.is_dir():
        folder = _download(str(model))
    missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
    if missing:
        raise EncoderLoadError(
            f"{folder} lacks {', '.join(missing)}: save the model with save_pretrained (safetensors) first"
        )
    return folder


def _download(hub_id: str) -> Path:
    from huggingface_hub import snapshot_download

    patterns = [*CHECKPOINT_FILES, "tokenizer*", "vocab*", "special_tokens_map.json"]
    try:
        return Path(snapshot_download(hub_id, allow_patterns=patterns))
    except Exception as error:  # offline, unknown id, no safetensors: all mean "cannot load this"
        raise EncoderLoadError(
            f"{hub_id!r} is not a local folder and could not be fetched from the Hugging Face "
            f"hub (HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '0')}): {error}"
        ) from error
