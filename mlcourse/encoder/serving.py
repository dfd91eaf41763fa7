"""A compiled serving, like ``Nx.Serving`` with ``compile: [batch_size: 16, sequence_length: [...]]``.

XLA compiles one program per input shape. So every batch is padded to a fixed ``batch_size`` and
to the smallest sequence-length bucket that holds its longest text, and each bucket is compiled
ahead of time at load (``jax.jit(...).lower(...).compile()``). Requests then run the ``Compiled``
objects directly: serving never traces or compiles, and a shape that has no bucket cannot
sneak in a compilation. Texts longer than the largest bucket are truncated.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

import numpy as np

from mlcourse.api.contract import MAX_BATCH_SIZE
from mlcourse.encoder.threads import limit_xla_threads
from mlcourse.sentiment.loading import resolve_source, sentiment_labels

DEFAULT_BATCH_SIZE = MAX_BATCH_SIZE  # d1's batch size: the API's batches fill the compiled shape
DEFAULT_BUCKETS = (16, 32, 64, 128)  # tokens; tweets mostly fit the first two


class CompiledServing:
    """``predict_batch(texts) -> [{"label", "score"}]`` on XLA, one compiled program per sequence bucket."""

    def __init__(
        self,
        model,
        config,
        tokenizer,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        buckets: Sequence[int] = DEFAULT_BUCKETS,
    ) -> None:
        import jax
        from flax import nnx

        buckets = tuple(sorted(set(buckets)))
        if batch_size < 1 or not buckets or buckets[0] < 2 or buckets[-1] > config.max_positions:
            raise ValueError(
                f"batch_size must be >= 1 and buckets within 2..{config.max_positions} tokens, "
                f"got batch_size={batch_size}, buckets={buckets}"
            )
        self.config, self.tokenizer = config, tokenizer
        self.batch_size, self.buckets = batch_size, buckets
        self.labels = sentiment_labels(config.id2label)
        graphdef, self.state = nnx.split(model)

        def forward(state, input_ids, attention_mask, token_type_ids):
            return nnx.merge(graphdef, state)(input_ids, attention_mask, token_type_ids)

        jitted = jax.jit(forward)
        self.compiled, self.compile_seconds = {}, {}
        for length in buckets:
            started = time.perf_counter()
            ids = jax.ShapeDtypeStruct((batch_size, length), np.int32)
            self.compiled[length] = jitted.lower(self.state, ids, ids, ids).compile()
            self.compile_seconds[length] = time.perf_counter() - started
        self._lock = threading.Lock()  # a fast tokenizer must not be called from two threads at once

    @property
    def max_length(self) -> int:
        return self.buckets[-1]

    def bucket_for(self, length: int) -> int:
        return next(bucket for bucket in self.buckets if bucket >= length)

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Token ids and mask padded to the batch's bucket; rows beyond ``len(texts)`` are fillers holding
        ``[CLS] [SEP]``, a real (empty) input, so every row of the fixed batch is well defined."""
        if not 0 < len(texts) <= self.batch_size:
            raise ValueError(f"encode takes 1 to {self.batch_size} texts (one batch), got {len(texts)}")
        encoded = self.tokenizer(
            texts,
            truncation=True,
            max_length=self.max_length,
            padding="longest",
            return_tensors="np",
            return_token_type_ids=False,
        )
        length = self.bucket_for(encoded["input_ids"].shape[1])
        padded = {name: np.zeros((self.batch_size, length), np.int32) for name in ("input_ids", "attention_mask")}
        for name, array in padded.items():
            source = encoded[name]
            array[: source.shape[0], : source.shape[1]] = source
        padded["input_ids"][padded["attention_mask"] == 0] = self.tokenizer.pad_token_id
        filler = slice(len(texts), None)
        padded["input_ids"][filler, :2] = [self.tokenizer.cls_token_id, self.tokenizer.sep_token_id]
        padded["attention_mask"][filler, :2] = 1
        return padded

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Logits ``[batch_size, num_labels]`` for arrays from :meth:`encode`, by that bucket's compiled program."""
        program = self.compiled[inputs["input_ids"].shape[1]]  # KeyError, never a compilation, for other shapes
        ids = inputs["input_ids"]
        return np.asarray(program(self.state, ids, inputs["attention_mask"], np.zeros_like(ids)))

    def logits(self, texts: list[str]) -> np.ndarray:
        """``[len(texts), num_labels]`` float32, batch by batch through the compiled buckets."""
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            with self._lock:
                inputs = self.encode(chunk)
            chunks.append(self.run(inputs)[: len(chunk)])
        return np.concatenate(chunks) if chunks else np.zeros((0, self.config.num_labels), np.float32)

    def predict_batch(self, texts: list[str]) -> list[dict]:
        """``[{"label": "positive"|"negative", "score": p}, ...]``, same length and order as ``texts``."""
        if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
            raise TypeError("predict_batch expects a list of strings")
        if not texts:
            return []
        logits = self.logits(list(texts))
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        return [{"label": self.labels[int(row.argmax())], "score": float(row.max())} for row in probabilities]

    def predict(self, text: str) -> dict:
        return self.predict_batch([text])[0]


def load_tokenizer(folder: os.PathLike[str]):
    """The checkpoint's own fast tokenizer (the ``tokenizers`` library under transformers; no torch involved)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def load_jax_serving(
    model: str | os.PathLike[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    buckets: Sequence[int] = DEFAULT_BUCKETS,
    num_threads: int | None = None,
) -> CompiledServing:
    """Load a checkpoint (folder, hub id, or None for the built default) and compile every bucket now.

    ``num_threads`` limits XLA's intra-op threads, which only works before JAX starts (see ``threads``).
    """
    limit_xla_threads(num_threads)
    from mlcourse.encoder.weights import load_model

    network, config, folder = load_model(resolve_source(model))
    return CompiledServing(network, config, load_tokenizer(folder), batch_size=batch_size, buckets=buckets)
