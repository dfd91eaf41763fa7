"""Parity with PyTorch: the same padded inputs through both models, logits compared, labels counted.

Both models see exactly the arrays the compiled serving builds (bucket padding and filler rows
included), so a difference can only come from the port, never from tokenization.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from mlcourse.api.contract import MAX_BATCH_SIZE

PARITY_TOLERANCE = 1e-4  # float32 logits, as the issue asks
HELD_OUT_TEXTS = 1000


@dataclass(frozen=True)
class Parity:
    model: str
    family: str
    texts: int
    max_abs_logit_diff: float
    label_agreement: float
    within_tolerance: bool

    def as_dict(self) -> dict:
        return asdict(self)


def torch_logits(torch_model, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """PyTorch's logits for the very arrays the JAX program gets (token types only where the model takes them)."""
    import inspect

    import torch

    accepted = set(inspect.signature(torch_model.forward).parameters)
    tensors = {name: torch.from_numpy(array.astype(np.int64)) for name, array in inputs.items() if name in accepted}
    if "token_type_ids" in accepted:
        tensors["token_type_ids"] = torch.zeros_like(tensors["input_ids"])
    with torch.inference_mode():
        return torch_model(**tensors).logits.float().numpy()


def compare(serving, torch_model, texts: list[str], *, progress: bool = False) -> tuple[float, float]:
    """``(max |logit difference|, share of identical labels)`` over ``texts``, batch by batch."""
    from tqdm.auto import tqdm

    worst, agree = 0.0, 0
    starts = range(0, len(texts), serving.batch_size)
    for start in tqdm(starts, desc="parity", unit="batch", disable=not progress, mininterval=2.0):
        chunk = texts[start : start + serving.batch_size]
        inputs = serving.encode(chunk)
        ours = serving.run(inputs)
        theirs = torch_logits(torch_model, inputs)
        worst = max(worst, float(np.abs(ours - theirs).max()))  # every row, filler rows included
        agree += int((ours[: len(chunk)].argmax(1) == theirs[: len(chunk)].argmax(1)).sum())
    return worst, agree / max(len(texts), 1)


def held_out_texts(count: int = HELD_OUT_TEXTS) -> list[str]:
    """The first ``count`` tweets of the default model's held-out split (never trained on)."""
    from mlcourse.sentiment.data import load_split

    return load_split().test["text"].head(count).to_list()


def run_parity(
    model: str | os.PathLike[str] | None = None, texts: list[str] | None = None, *, progress: bool = False
) -> Parity:
    """Load ``model`` on both backends and compare them on ``texts`` (default: 1,000 held-out tweets)."""
    from mlcourse.encoder.serving import load_jax_serving
    from mlcourse.sentiment.loading import load_classifier, resolve_source

    source = resolve_source(model)
    serving = load_jax_serving(source, batch_sizes=(MAX_BATCH_SIZE,))  # one batch size: the same maths, less to compile
    torch_model = load_classifier(str(source) if os.path.isdir(source) else source).model
    texts = held_out_texts() if texts is None else texts
    worst, agreement = compare(serving, torch_model, texts, progress=progress)
    return Parity(str(source), serving.config.family, len(texts), worst, agreement, worst <= PARITY_TOLERANCE)
