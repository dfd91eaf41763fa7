"""The built default model: offline, right on the obvious cases, batch and single agree.

Skipped with a reason when the model is not built; `make test` builds it first.
"""

import json
import os
import subprocess
import sys

import pytest

from mlcourse.sentiment import DEFAULT_MODEL_DIR
from mlcourse.sentiment.build_cache import STAMP_FILE, is_built

pytestmark = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "config.json").is_file(),
    reason=f"default model not built at {DEFAULT_MODEL_DIR}: run `python -m mlcourse.sentiment.build`",
)

TEXTS = ["I love this course", "This is a waste of time"]


@pytest.fixture(scope="module")
def serving():
    from mlcourse.sentiment import load_serving

    return load_serving()


def test_cli_prints_positive_then_negative_offline(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mlcourse.sentiment", *TEXTS],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)},  # no hub, no cache
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["label"] for line in lines] == ["positive", "negative"]
    assert all(line["score"] > 0.5 for line in lines)


def test_default_model_labels(serving):
    assert serving.labels == ("negative", "positive")
    assert serving.classifier.source == str(DEFAULT_MODEL_DIR)


def test_batch_and_single_agree_on_the_built_model(serving):
    texts = [*TEXTS, "@united lost my bag again", "thanks @JetBlue, great crew!", "meh"]
    batch = serving.predict_batch(texts)
    assert [p["label"] for p in batch][:2] == ["positive", "negative"]
    for text, batched in zip(texts, batch, strict=True):
        single = serving.predict(text)
        assert single["label"] == batched["label"]
        assert single["score"] == pytest.approx(batched["score"], abs=1e-4)


def test_build_reports_held_out_accuracy_and_baseline():
    report = json.loads((DEFAULT_MODEL_DIR / STAMP_FILE).read_text())
    accuracy = report["accuracy"]
    assert accuracy["model"] > accuracy["majority"] + 0.1
    assert "tfidf_logreg" in accuracy
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").is_file()
    assert is_built(), "the built model is stale: rerun `python -m mlcourse.sentiment.build`"


def test_int8_serving_quantises_linear_layers_and_agrees_on_clear_cases(serving):
    import torch

    from mlcourse.sentiment import load_serving

    int8 = load_serving(int8=True)
    linear_types = {type(module) for module in int8.classifier.model.modules()}
    assert torch.nn.Linear not in linear_types, "int8=True must replace every nn.Linear by its quantised form"
    assert [p["label"] for p in int8.predict_batch(TEXTS)] == ["positive", "negative"]
    assert serving.classifier.model is not int8.classifier.model, "quantising must not touch other loaded models"
