"""A deterministic stand-in for the sentiment serving object, for lessons and checks about batching.

It keeps the serving contract (a list of texts in, one ``{"label", "score"}`` per text out,
one call per batch) but answers from the text alone, costs a time you choose, and records
every batch it was given. Checks about batching use it so that they test the batcher, not a
model; the real model only appears where the figure is about the real model.

``time.sleep`` releases the GIL, as PyTorch does while it computes, so a worker thread running
this fake leaves the event loop free exactly as the real model would.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from mlcourse.api.contract import PredictBatch, Prediction

POSITIVE_WORDS = frozenset({"love", "great", "good", "happy", "excellent", "nice", "best", "awesome", "fun", "like"})


def fake_prediction(text: str) -> Prediction:
    """What the fake model answers for ``text``, whatever batch it comes in.

    The label comes from a tiny word list; the score from a checksum of the text, so two
    different texts almost never share a score and a check can tell whose answer is whose.
    """
    words = {word.strip(".,!?;:").lower() for word in text.split()}
    label = "positive" if words & POSITIVE_WORDS else "negative"
    score = 0.5 + 0.4999 * (zlib.crc32(text.encode()) % 100_003) / 100_003
    return {"label": label, "score": round(score, 6)}


@dataclass
class FakeSentimentModel:
    """``predict_batch`` costs ``call_s + per_text_s * len(texts)`` seconds and is recorded.

    ``pause()`` makes the next calls wait (in their worker thread) until ``resume()``: a check
    can hold the model busy for as long as it needs, without guessing durations.
    """

    call_s: float = 0.0
    per_text_s: float = 0.0
    max_pause_s: float = 30.0  # a paused call gives up after this, so a forgotten resume() never hangs a run
    batches: list[list[str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._running.set()

    def predict_batch(self, texts: list[str]) -> list[Prediction]:
        with self._lock:
            self.batches.append(list(texts))  # recorded on entry: a check sees the batch in flight
        self._running.wait(self.max_pause_s)
        cost = self.call_s + self.per_text_s * len(texts)
        if cost > 0:
            time.sleep(cost)
        return [fake_prediction(text) for text in texts]

    @property
    def batch_sizes(self) -> list[int]:
        with self._lock:
            return [len(batch) for batch in self.batches]

    @property
    def texts_seen(self) -> list[str]:
        with self._lock:
            return [text for batch in self.batches for text in batch]

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()


def slow_loader(model: FakeSentimentModel, load_s: float) -> Callable[[], PredictBatch]:
    """A model loader that takes ``load_s`` seconds (blocking, as real weights loading does)."""

    def load() -> PredictBatch:
        time.sleep(load_s)
        return model.predict_batch

    return load
