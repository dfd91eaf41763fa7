"""A batched serving object: the Python counterpart of Nx.Serving.

``SentimentServing.predict_batch`` takes a list of texts and returns a list of
the same length, in order, computed in ONE forward pass. Texts are padded to
the longest one in the batch (dynamic shapes: PyTorch on CPU needs no fixed
batch or sequence size, unlike a compiled ``Nx.Serving`` with
``compile: [batch_size: 8]``) and truncated to ``max_length`` tokens.
Collecting requests into batches is the caller's job (drill d1's batcher).
"""

from __future__ import annotations

import inspect
import os
import threading
import warnings

from mlcourse.sentiment.loading import Classifier, load_classifier

DEFAULT_MAX_LENGTH = 128  # tokens; a 280-character tweet stays well below, longer texts are cut


class SentimentServing:
    """Run lists of texts through one sentiment classifier, one batch at a time."""

    def __init__(self, classifier: Classifier, *, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        if max_length < 2:
            raise ValueError(f"max_length must leave room for the special tokens, got {max_length}")
        self.classifier = classifier
        self.max_length = min(max_length, classifier.tokenizer.model_max_length)
        # DistilBERT takes no token_type_ids; send a model only the inputs its forward accepts.
        self._accepted = set(inspect.signature(classifier.model.forward).parameters)
        # One batch at a time: a forward pass already uses every torch thread, and a
        # fast tokenizer must not be called from two threads at once.
        self._lock = threading.Lock()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def predict_batch(self, texts: list[str]) -> list[dict]:
        """``[{"label": "positive"|"negative", "score": p}, ...]`` for ``texts``, same length and order.

        ``score`` is the softmax probability of the returned label.
        """
        import torch

        if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
            raise TypeError("predict_batch expects a list of strings")
        if not texts:
            return []
        tokenizer, model = self.classifier.tokenizer, self.classifier.model
        with self._lock, torch.inference_mode():
            encoded = tokenizer(
                list(texts), padding="longest", truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            inputs = {name: tensor for name, tensor in encoded.items() if name in self._accepted}
            scores, class_ids = model(**inputs).logits.softmax(dim=-1).max(dim=-1)
        return [
            {"label": self.labels[class_id], "score": score}
            for class_id, score in zip(class_ids.tolist(), scores.tolist(), strict=True)
        ]

    def predict(self, text: str) -> dict:
        """One text: a batch of one."""
        return self.predict_batch([text])[0]


def quantize_int8(model):
    """Dynamic int8 quantisation of every ``nn.Linear``, in place: weights stored as int8, activations
    quantised per batch. Notebook 04 measures what it buys on MiniLM (speed, size, agreement with
    float32); the embeddings stay float32."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # deprecated in favour of torchao, still shipped and fast (fbgemm)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_serving(
    model: str | os.PathLike[str] | None = None,
    *,
    num_threads: int | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    int8: bool = False,
) -> SentimentServing:
    """Load a classifier (hub id, local folder, or None for the built default) behind a ``SentimentServing``.

    ``num_threads`` sets torch's intra-op thread count, which is process-wide; ``int8`` quantises the
    linear layers for CPU serving (see :func:`quantize_int8`).
    """
    import torch

    if num_threads is not None:
        if num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {num_threads}")
        torch.set_num_threads(num_threads)
    classifier = load_classifier(model)
    if int8:
        quantize_int8(classifier.model)
    return SentimentServing(classifier, max_length=max_length)
