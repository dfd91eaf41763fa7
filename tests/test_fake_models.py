"""The fake model is deterministic, keeps the batch contract and records what it was given."""

from __future__ import annotations

import threading
import time

from mlcourse.api.fake_model import FakeSentimentModel, fake_prediction, slow_loader


def test_predictions_depend_on_the_text_only():
    model = FakeSentimentModel()
    texts = ["I love this", "this is bad", "I love this"]
    assert model.predict_batch(texts) == [fake_prediction(t) for t in texts]
    assert model.predict_batch(texts[:1]) == model.predict_batch(texts[2:])
    assert fake_prediction("Great flight!")["label"] == "positive"
    assert fake_prediction("lost my bag")["label"] == "negative"
    scores = {fake_prediction(f"text {i}")["score"] for i in range(500)}
    assert len(scores) > 490 and all(0.5 <= s < 1 for s in scores)


def test_batches_are_recorded_and_cost_their_time():
    model = FakeSentimentModel(call_s=0.02, per_text_s=0.01)
    started = time.perf_counter()
    model.predict_batch(["a", "b", "c"])
    assert time.perf_counter() - started >= 0.05
    model.predict_batch(["d"])
    assert model.batch_sizes == [3, 1]
    assert model.texts_seen == ["a", "b", "c", "d"]


def test_pause_holds_calls_until_resume():
    model = FakeSentimentModel()
    model.pause()
    results = []
    worker = threading.Thread(target=lambda: results.append(model.predict_batch(["held"])))
    worker.start()
    time.sleep(0.1)
    assert model.batch_sizes == [1] and not results  # in flight, recorded, not answered
    model.resume()
    worker.join(2)
    assert results == [[fake_prediction("held")]]


def test_slow_loader_blocks_then_returns_predict_batch():
    model = FakeSentimentModel()
    started = time.perf_counter()
    predict_batch = slow_loader(model, 0.1)()
    assert time.perf_counter() - started >= 0.1
    assert predict_batch(["x"]) == [fake_prediction("x")]
