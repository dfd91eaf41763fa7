"""The reference batcher's adaptive policy: a batch runs as soon as the model is free.

With the window policy a lone request waits out ``max_wait_ms``; with the adaptive one it goes to
an idle model at once, and the texts that arrive while the model computes form the next batch.
"""

import asyncio
import time

import pytest

from mlcourse.api.fake_model import FakeSentimentModel
from mlcourse.impl import load_drill

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


def reference_batcher() -> type:
    return load_drill("solutions", "d1_sentiment_api").module("batcher").Batcher


async def lone_then_burst(batching: str, model: FakeSentimentModel) -> float:
    batcher = reference_batcher()(model.predict_batch, max_batch_size=16, max_wait_ms=200, batching=batching)
    batcher.start()
    try:
        started = time.perf_counter()
        first = asyncio.ensure_future(batcher.submit("the first text"))
        await asyncio.sleep(0.02)  # the model is computing the first text when the burst arrives
        burst = [asyncio.ensure_future(batcher.submit(f"text {i}")) for i in range(8)]
        await first
        lone_s = time.perf_counter() - started
        await asyncio.gather(*burst)
        return lone_s
    finally:
        await batcher.stop()


def test_adaptive_answers_a_lone_text_without_waiting_out_the_window():
    model = FakeSentimentModel(call_s=0.05)
    lone_s = asyncio.run(lone_then_burst("adaptive", model))
    assert lone_s < 0.15, f"a lone text took {lone_s * 1e3:.0f} ms: the 200 ms window was waited out"
    assert [len(batch) for batch in model.batches] == [1, 8], "the burst during the first call is one batch"


def test_window_waits_for_the_window_and_rejects_unknown_policies():
    model = FakeSentimentModel(call_s=0.05)
    lone_s = asyncio.run(lone_then_burst("window", model))
    assert lone_s >= 0.2, "the window policy flushes a lone text only when max_wait_ms has passed"
    with pytest.raises(ValueError, match="batching must be one of"):
        reference_batcher()(model.predict_batch, batching="eager")
