"""The Ray pieces that need no cluster: poisoned texts failing alone, and Ray's overload mapped to a 429."""

from __future__ import annotations

import pytest

pytest.importorskip("ray.serve")

from ray.serve.exceptions import BackPressureError

from mlcourse.api.fake_model import fake_prediction
from mlcourse.api.models import FakeCost
from mlcourse.distributed.ingress import overloaded
from mlcourse.distributed.model import MODEL_ERROR, ModelSpec, predict_each_alone


def poisoned_model(texts: list[str]) -> list[dict]:
    if any("poison" in text for text in texts):
        raise ValueError("cannot tokenize this")
    return [fake_prediction(text) for text in texts]


def test_a_poisoned_text_fails_alone():
    answers = predict_each_alone(poisoned_model, ["good one", "poison pill", "fine too"])
    assert answers[0] == fake_prediction("good one") and answers[2] == fake_prediction("fine too")
    assert "ValueError" in answers[1][MODEL_ERROR]


def test_rays_backpressure_becomes_the_courses_429():
    error = overloaded(BackPressureError(num_queued_requests=200, max_queued_requests=200))
    response = error.response()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert b"queue_full" in response.body


def test_the_fake_spec_loads_the_fake_model():
    assert ModelSpec(fake=FakeCost(0.0, 0.0)).load()(["I love it"]) == [fake_prediction("I love it")]
