"""A compiled serving, like ``Nx.Serving`` with ``compile: [batch_size: ..., sequence_length: [...]]``.

XLA compiles one program per input shape. So every batch is padded to the smallest batch-size
bucket that holds its rows and to the smallest sequence-length bucket that holds its longest text,
and every (batch, sequence) pair is compiled ahead of time at load (``jax.jit(...).lower(...).compile()``).
Requests then run the ``Compiled`` objects directly: serving never traces or compiles, and a shape
that has no bucket cannot sneak in a compilation. Texts longer than the largest bucket are truncated.
A batch of 5 runs in the 8-row program, not the 16-row one: under d1's load most batches are small.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from mlcourse.api.contract import MAX_BATCH_SIZE
from mlcourse.encoder.threads import limit_xla_threads
from mlcourse.sentiment.loading import resolve_source, sentiment_labels

# Rows per program. Each size costs one program per sequence bucket at load (compile time and a
# little memory); each halving roughly halves a small batch's time. Notebook 09, section 7 measures
# both; d1 batches up to MAX_BATCH_SIZE, so the largest bucket is that.
DEFAULT_BATCH_SIZES = (1, 2, 4, 8, MAX_BATCH_SIZE)
DEFAULT_BUCKETS = (16, 32, 64, 128)  # tokens; tweets mostly fit the first two


def smallest_holding(buckets: Sequence[int], size: int) -> int:
    """The first of the sorted ``buckets`` that is at least ``size`` (StopIteration if none is)."""
    return next(bucket for bucket in buckets if bucket >= size)


class CompiledServing:
    """``predict_batch(texts) -> [{"label", "score"}]`` on XLA, one compiled program per (batch, sequence) bucket."""

    def __init__(
        self,
        model,
        config,
        tokenizer,
        *,
        batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
        buckets: Sequence[int] = DEFAULT_BUCKETS,
    ) -> None:
        import jax
        from flax import nnx

        batch_sizes, buckets = tuple(sorted(set(batch_sizes))), tuple(sorted(set(buckets)))
        if not batch_sizes or batch_sizes[0] < 1 or not buckets or buckets[0] < 2 or buckets[-1] > config.max_positions:
            raise ValueError(
                f"batch sizes must be >= 1 and buckets within 2..{config.max_positions} tokens, "
                f"got batch_sizes={batch_sizes}, buckets={buckets}"
            )
        self.config, self.tokenizer = config, tokenizer
        self.batch_sizes, self.buckets = batch_sizes, buckets
        self.labels = sentiment_labels(config.id2label)
        self.device = jax.devices()[0]  # a GPU where JAX sees one, else the CPU: no code change either way
        graphdef, state = nnx.split(model)
        self.state = jax.device_put(state, self.device)

        def forward(state, input_ids, attention_mask, token_type_ids):
            return nnx.merge(graphdef, state)(input_ids, attention_mask, token_type_ids)

        jitted = jax.jit(forward)
        shapes = [(rows, length) for rows in batch_sizes for length in buckets]
        started = time.perf_counter()
        lowered = {shape: jitted.lower(self.state, *[jax.ShapeDtypeStruct(shape, np.int32)] * 3) for shape in shapes}

        def compile_timed(shape: tuple[int, int]) -> tuple[Any, float]:
            begun = time.perf_counter()
            return lowered[shape].compile(), time.perf_counter() - begun

        # XLA compiles outside the GIL: one program per core at a time shortens the load on a multi-core machine.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            done = dict(zip(shapes, pool.map(compile_timed, shapes)))
        self.compiled = {shape: program for shape, (program, _) in done.items()}
        self.compile_seconds = {shape: seconds for shape, (_, seconds) in done.items()}
        self.load_seconds = time.perf_counter() - started  # every program; load_jax_serving adds the weights' time
        self._lock = threading.Lock()  # a fast tokenizer must not be called from two threads at once

    def summary(self) -> str:
        """One line for logs and reports: the device, the bucket set, how many programs and how long the load took."""
        return (
            f"JAX on {self.device}: {len(self.compiled)} programs compiled ahead of time "
            f"(batch {', '.join(map(str, self.batch_sizes))} x tokens {', '.join(map(str, self.buckets))}), "
            f"loaded in {self.load_seconds:.1f} s"
        )

    @property
    def batch_size(self) -> int:
        """The most rows one program takes: longer lists run in chunks of this many."""
        return self.batch_sizes[-1]

    @property
    def max_length(self) -> int:
        return self.buckets[-1]

    def bucket_for(self, length: int) -> int:
        return smallest_holding(self.buckets, length)

    def shape_for(self, rows: int, length: int) -> tuple[int, int]:
        """The compiled ``(batch, sequence)`` shape a batch of ``rows`` texts of ``length`` tokens runs in."""
        return smallest_holding(self.batch_sizes, rows), self.bucket_for(length)

    def program_bytes(self) -> dict[tuple[int, int], int]:
        """Per program, the memory XLA reports beyond the shared weights: generated code, temporaries, outputs."""
        sizes = {}
        for shape, program in self.compiled.items():
            stats = program.memory_analysis()
            sizes[shape] = sum(
                getattr(stats, name, 0) or 0
                for name in ("generated_code_size_in_bytes", "temp_size_in_bytes", "output_size_in_bytes")
            )
        return sizes

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Token ids and mask padded to the batch's (batch, sequence) bucket; rows beyond ``len(texts)`` are fillers
        holding ``[CLS] [SEP]``, a real (empty) input, so every row of the compiled shape is well defined."""
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
        shape = self.shape_for(len(texts), encoded["input_ids"].shape[1])
        padded = {name: np.zeros(shape, np.int32) for name in ("input_ids", "attention_mask")}
        for name, array in padded.items():
            source = encoded[name]
            array[: source.shape[0], : source.shape[1]] = source
        padded["input_ids"][padded["attention_mask"] == 0] = self.tokenizer.pad_token_id
        filler = slice(len(texts), None)
        padded["input_ids"][filler, :2] = [self.tokenizer.cls_token_id, self.tokenizer.sep_token_id]
        padded["attention_mask"][filler, :2] = 1
        return padded

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Logits ``[batch, num_labels]`` for arrays from :meth:`encode`, by that shape's compiled program."""
        ids = inputs["input_ids"]
        program = self.compiled[ids.shape]  # KeyError, never a compilation, for other shapes
        return np.asarray(program(self.state, ids, inputs["attention_mask"], np.zeros_like(ids)))

    def logits(self, texts: list[str]) -> np.ndarray:
        """``[len(texts), num_labels]`` float32, chunk by chunk through the compiled buckets."""
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
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    buckets: Sequence[int] = DEFAULT_BUCKETS,
    num_threads: int | None = None,
) -> CompiledServing:
    """Load a checkpoint (folder, hub id, or None for the built default) and compile every bucket now.

    ``num_threads`` limits XLA's intra-op threads, which only works before JAX starts (see ``threads``).
    ``load_seconds`` on the result is the whole load: weights, tokenizer and every compilation.
    """
    started = time.perf_counter()
    limit_xla_threads(num_threads)
    from mlcourse.encoder.weights import load_model

    network, config, folder = load_model(resolve_source(model))
    serving = CompiledServing(network, config, load_tokenizer(folder), batch_sizes=batch_sizes, buckets=buckets)
    serving.load_seconds = time.perf_counter() - started
    return serving
