"""The penguin model: trained on data/penguins.csv, saved as JSON, predicting exactly as scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlcourse.port import penguin_model
from mlcourse.port.penguin_model import ModelFileError, load_model


@pytest.fixture(scope="module")
def trained():
    return penguin_model.train()


def test_held_out_accuracy_is_high(trained):
    _, model = trained
    assert model.metrics["test_accuracy"] >= 0.9
    assert model.features == penguin_model.FEATURES
    assert model.classes == ("Adelie", "Chinstrap", "Gentoo")


def test_saved_model_is_json_and_predicts_as_scikit_learn(trained, tmp_path: Path):
    pipeline, model = trained
    path = penguin_model.save_model(model, tmp_path / "model.json")
    assert json.loads(path.read_text())["format"] == penguin_model.FORMAT
    loaded = load_model(path)
    features, _ = penguin_model.load_table()
    np.testing.assert_allclose(loaded.predict_proba(features.to_numpy()), pipeline.predict_proba(features), atol=1e-12)
    first = features.row(0)
    assert loaded.predict(first)["label"] == pipeline.predict(features.head(1))[0]
    assert set(loaded.predict(first)["probabilities"]) == set(model.classes)


@pytest.mark.parametrize("features", [[1.0, 2.0], [1.0, 2.0, 3.0, float("nan")], ["a", "b", "c", "d"]])
def test_bad_features_are_a_value_error(trained, features):
    _, model = trained
    with pytest.raises(ValueError):
        model.predict(features)


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"format": "something else"}', json.dumps({"format": penguin_model.FORMAT})]
)
def test_anything_but_a_saved_model_is_refused(tmp_path: Path, text: str):
    path = tmp_path / "model.json"
    path.write_text(text)
    with pytest.raises(ModelFileError):
        load_model(path)


def test_command_line_writes_the_model(tmp_path: Path, capsys):
    out = tmp_path / "models" / "penguins-logreg.json"
    penguin_model.main(["--out", str(out)])
    assert load_model(out).metrics["test_accuracy"] >= 0.9
    assert "no pickle" in capsys.readouterr().out
